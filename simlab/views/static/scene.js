// simlab's picture in the browser: draws a scene (simlab/views/scene.py) as SVG and steps
// through it with no kernel round trip.  Used by the anywidget Stepper (export `render`)
// and by the self-contained HTML export (export `mount`).  No network, no libraries.
//
// Rules:
// - The state shown is the scene's base with steps 0..i applied; a step is applied
//   forward once, which records its inverse, so Back costs what the step changed.
// - Only the items a step touches are redrawn; dimming and label sizes are CSS.
// - Labels are sized in screen pixels (never below 12 px, 20 px in presenter mode),
//   whatever the zoom; when the zoom leaves no room for them they hide, except the change.
// - Test hooks: data-simlab="picture" (data-step), "first" | "back" | "next" | "last",
//   "packet" on the moving packet mark.

const NS = "http://www.w3.org/2000/svg";
const U = 96; // SVG units per layout inch

function el(tag, attrs, parent) {
  const e = tag.startsWith("svg:") ? document.createElementNS(NS, tag.slice(4)) : document.createElement(tag);
  if (attrs) for (const k in attrs) {
    if (k === "text") e.textContent = attrs[k];
    else if (k === "cls") e.setAttribute("class", attrs[k]);
    else e.setAttribute(k, attrs[k]);
  }
  if (parent) parent.appendChild(e);
  return e;
}

function fmt(s, params) {
  return s.replace(/\{(\w+)\}/g, (m, k) => (k in params ? params[k] : m));
}

class Picture {
  constructor(root, scene, opts) {
    this.root = root;
    this.opts = opts || {};
    this.onStep = this.opts.onStep || (() => {});
    this.askTexts = this.opts.askTexts || null;
    this.presenter = !!this.opts.presenter;
    this.expanded = new Set();
    this.pinnedNs = null;
    this.textCache = new Map();
    this.walk = null; // packet frames shown now
    this.hop = 0;
    this.timer = null;
    this.hopTimer = null;
    this.build();
    this.load(scene, this.opts.step || 0);
  }

  // ------------------------------------------------------------------ DOM
  build() {
    const r = this.root;
    r.innerHTML = "";
    r.classList.add("simlab-pic");
    r.setAttribute("data-simlab", "picture");
    r.tabIndex = 0;
    const bar = el("div", { cls: "simlab-bar" }, r);
    const btn = (hook, cls) => {
      const b = el("button", { "data-simlab": hook, cls: "simlab-btn " + cls, type: "button" }, bar);
      return b;
    };
    this.bFirst = btn("first", "simlab-first");
    this.bBack = btn("back", "simlab-back");
    this.bPlay = btn("play", "simlab-play");
    this.slider = el("input", { type: "range", min: "0", max: "0", value: "0", cls: "simlab-slider", "aria-label": "step" }, bar);
    this.bNext = btn("next", "simlab-next");
    this.bLast = btn("last", "simlab-last");
    this.counter = el("span", { cls: "simlab-counter" }, bar);
    const zoom = el("span", { cls: "simlab-zoom" }, bar);
    this.bZoomIn = el("button", { cls: "simlab-btn", type: "button", "data-simlab": "zoom-in" }, zoom);
    this.bZoomOut = el("button", { cls: "simlab-btn", type: "button", "data-simlab": "zoom-out" }, zoom);
    this.bFit = el("button", { cls: "simlab-btn", type: "button", "data-simlab": "fit" }, zoom);

    this.title = el("div", { cls: "simlab-step-title" }, r);
    const stage = el("div", { cls: "simlab-stage" }, r);
    this.badges = el("div", { cls: "simlab-badges", "data-simlab": "badges" }, stage);
    this.svg = el("svg:svg", { cls: "simlab-svg", role: "img" }, stage);
    this.gWorld = el("svg:g", { cls: "world" }, this.svg);
    this.gBoxes = el("svg:g", { cls: "boxes" }, this.gWorld);
    this.gWires = el("svg:g", { cls: "wires" }, this.gWorld);
    this.gGhost = el("svg:g", { cls: "ghosts" }, this.gWorld);
    this.gMarks = el("svg:g", { cls: "marks" }, this.gWorld);
    this.gLabels = el("svg:g", { cls: "labels" }, this.gWorld);
    this.gGroups = el("svg:g", { cls: "groups" }, this.gWorld);
    this.gPacket = el("svg:g", { cls: "packet-layer" }, this.gWorld);

    this.packetBox = el("div", { cls: "simlab-packet", "data-simlab": "packet-panel" }, r);
    const info = el("div", { cls: "simlab-info" }, r);
    const left = el("div", { cls: "simlab-text" }, info);
    this.why = el("div", { cls: "simlab-why" }, left);
    this.cmds = el("div", { cls: "simlab-commands" }, left);
    this.legend = el("details", { cls: "simlab-legend", "data-simlab": "legend", open: "" }, left);
    const right = el("div", { cls: "simlab-inspect", "data-simlab": "inspect" }, info);
    const head = el("div", { cls: "simlab-inspect-head" }, right);
    this.nsLabel = el("label", {}, head);
    this.nsSelect = el("select", { cls: "simlab-ns", "data-simlab": "ns" }, head);
    this.hint = el("span", { cls: "simlab-hint" }, head);
    this.inspect = el("div", { cls: "simlab-ipa" }, right);

    this.bFirst.onclick = () => this.show(0);
    this.bBack.onclick = () => this.show(this.at - 1);
    this.bNext.onclick = () => this.show(this.at + 1);
    this.bLast.onclick = () => this.show(this.steps.length - 1);
    this.bPlay.onclick = () => this.togglePlay();
    this.slider.oninput = () => this.show(+this.slider.value);
    this.bZoomIn.onclick = () => this.zoomBy(1.4);
    this.bZoomOut.onclick = () => this.zoomBy(1 / 1.4);
    this.bFit.onclick = () => this.fit(true);
    this.nsSelect.onchange = () => { this.pinnedNs = this.nsSelect.value; this.renderInspect(); };
    r.addEventListener("keydown", (ev) => {
      if (ev.target.tagName === "SELECT" || ev.target.tagName === "INPUT") return;
      if (ev.key === "ArrowRight") { this.show(this.at + 1); ev.preventDefault(); }
      else if (ev.key === "ArrowLeft") { this.show(this.at - 1); ev.preventDefault(); }
    });
    this.svg.addEventListener("click", (ev) => this.onClick(ev));
    this.svg.addEventListener("wheel", (ev) => {
      if (!ev.ctrlKey && !ev.metaKey) return; // plain wheel scrolls the notebook
      ev.preventDefault();
      this.zoomBy(ev.deltaY < 0 ? 1.2 : 1 / 1.2, ev);
    }, { passive: false });
    let drag = null;
    this.svg.addEventListener("pointerdown", (ev) => {
      drag = { x: ev.clientX, y: ev.clientY, vx: this.view.x, vy: this.view.y, moved: false };
    });
    this.svg.addEventListener("pointermove", (ev) => {
      if (!drag) return;
      const dx = ev.clientX - drag.x, dy = ev.clientY - drag.y;
      if (Math.abs(dx) + Math.abs(dy) > 4) drag.moved = true;
      if (!drag.moved) return;
      const k = this.view.w / this.width();
      this.userView = true;
      this.view.x = drag.vx - dx * k;
      this.view.y = drag.vy - dy * k;
      this.applyView();
    });
    const end = () => { if (drag && drag.moved) this.justDragged = true; drag = null; };
    this.svg.addEventListener("pointerup", end);
    this.svg.addEventListener("pointerleave", () => { drag = null; });
    if (typeof ResizeObserver !== "undefined") {
      this.resizer = new ResizeObserver(() => {
        this.cachedWidth = 0;
        if (!this.scene || this.width() === this.lastWidth) return;
        this.lastWidth = this.width();
        this.sizeSvg();
        if (this.userView) this.applyView(); else this.fit(false);
      });
      this.resizer.observe(this.root);
    }
  }

  words(k, p) { return fmt(this.scene.words[k] || k, p || {}); }

  // ------------------------------------------------------------------ loading
  load(scene, step) {
    this.stop();
    this.scene = scene;
    this.steps = scene.steps;
    this.root.classList.toggle("presenter", this.presenter);
    this.root.classList.toggle("compact", !!this.opts.compact);
    this.root.setAttribute("lang", scene.lang || "en");
    const [x0, y0, x1, y1] = scene.bounds;
    this.world = { x: x0 * U - 20, y: -y1 * U - 20, w: (x1 - x0) * U + 40, h: (y1 - y0) * U + 40 };
    this.items = new Map(Object.entries(scene.items).map(([k, v]) => [k, v]));
    this.edges = new Map();
    this.adj = new Map(); // item id -> Set of edge keys
    for (const k in scene.edges) this.setEdge(k, scene.edges[k]);
    this.inv = [];
    this.at = -1;
    this.nsDirty = true;
    this.nsTouched = new Set();
    this.nsList = null;
    this.barsDirty = true;
    this.shownK = null;
    this.lit = [];
    this.picked = null;
    this.collapsed = new Set();
    this.groupOf = new Map();
    for (const g of scene.groups || []) for (const m of g.members) this.groupOf.set(m, g);
    for (const g of [this.gBoxes, this.gWires, this.gGhost, this.gMarks, this.gLabels, this.gGroups, this.gPacket]) g.innerHTML = "";
    this.nodes = new Map(); // id -> {box|mark, label}
    this.wires = new Map();
    this.labels();
    this.drawLegend();
    // reach the step first, then draw what is there (a page may open at any step)
    this.goto(Math.max(0, Math.min(step, this.steps.length - 1)));
    for (const [id] of this.items) this.drawItem(id);
    for (const [k] of this.edges) this.drawEdge(k);
    this.slider.max = String(this.steps.length - 1);
    this.sizeSvg();
    this.view = null;
    this.fit(false);
    this.paintStep();
  }

  labels() {
    this.bFirst.textContent = this.words("nav.first");
    this.bBack.textContent = this.words("nav.back");
    this.bNext.textContent = this.words("nav.next");
    this.bLast.textContent = this.words("nav.last");
    this.bPlay.textContent = this.words("nav.play");
    this.bZoomIn.textContent = this.words("pic.zoom_in");
    this.bZoomOut.textContent = this.words("pic.zoom_out");
    this.bFit.textContent = this.words("pic.fit");
    this.nsLabel.textContent = this.words("label.namespace") + " ";
    this.hint.textContent = this.words("pic.inspect_hint");
  }

  // ------------------------------------------------------------------ state
  setEdge(k, e) {
    const old = this.edges.get(k);
    if (old) for (const id of [old[1], old[2]]) { const a = this.adj.get(id); if (a) a.delete(k); }
    if (e === null || e === undefined) { this.edges.delete(k); return; }
    this.edges.set(k, e);
    for (const id of [e[1], e[2]]) { if (!this.adj.has(id)) this.adj.set(id, new Set()); this.adj.get(id).add(k); }
  }

  apply(i) { // step i forward onto the state (which shows step i-1)
    const s = this.steps[i];
    const inv = { set: {}, edges: {} };
    for (const id in s.set) { inv.set[id] = this.items.has(id) ? this.items.get(id) : null; this.items.set(id, s.set[id]); }
    for (const id of s.del) { if (this.items.has(id)) { inv.set[id] = this.items.get(id); this.items.delete(id); } }
    for (const k in s.eadd) { inv.edges[k] = this.edges.get(k) || null; this.setEdge(k, s.eadd[k]); }
    for (const k of s.edel) { if (this.edges.has(k)) { inv.edges[k] = this.edges.get(k); this.setEdge(k, null); } }
    this.inv[i] = inv;
    return Object.keys(inv.set).concat([]);
  }

  unapply(i) { // step i backward (the state then shows step i-1)
    const inv = this.inv[i];
    for (const id in inv.set) { if (inv.set[id] === null) this.items.delete(id); else this.items.set(id, inv.set[id]); }
    for (const k in inv.edges) this.setEdge(k, inv.edges[k]);
  }

  goto(i) { // move the state to step i; return the ids and edges touched
    const ids = new Set(), es = new Set();
    const touch = (j) => {
      const s = this.steps[j];
      for (const id in s.set) ids.add(id);
      for (const id of s.del) ids.add(id);
      for (const k in s.eadd) es.add(k);
      for (const k of s.edel) es.add(k);
    };
    while (this.at < i) { this.at++; touch(this.at); this.apply(this.at); }
    while (this.at > i) { touch(this.at); this.unapply(this.at); this.at--; }
    return [ids, es];
  }

  // ------------------------------------------------------------------ drawing
  xy(a) { return [a.x * U, -a.y * U]; }

  drawItem(id) {
    const old = this.nodes.get(id);
    if (old) { for (const e of old) e.remove(); this.nodes.delete(id); }
    const a = this.items.get(id);
    if (!a) return;
    const parts = [];
    if (a.k === "ns") parts.push(...this.drawNs(id, a, this.gBoxes, this.gLabels));
    else if (a.k === "ctr") parts.push(...this.drawCtr(id, a, this.gMarks, this.gLabels));
    else parts.push(...this.drawLink(id, a, this.gMarks, this.gLabels));
    for (const p of parts) { p.dataset.id = id; }
    this.nodes.set(id, parts);
  }

  drawNs(id, a, gb, gl, ghost) {
    const node = a.key === this.scene.root;
    const g = el("svg:g", { cls: "item ns" + (node ? " node" : "") + (ghost ? " ghost" : "") }, gb);
    g.dataset.ns = a.key;
    el("svg:rect", { x: a.x * U, y: -(a.y + a.h) * U, width: a.w * U, height: a.h * U, rx: 6 }, g);
    const t = el("svg:text", { cls: "lbl ns-lbl" + (node ? " node-lbl" : "") }, gl);
    t.dataset.ns = a.key;
    if (node) {
      const flags = [a.fwd ? "ip_forward=1" : "", a.nat ? "NAT" : ""].filter(Boolean).join("  ");
      t.setAttribute("x", (a.x + 0.06) * U); t.setAttribute("y", -(a.y + a.h) * U);
      el("svg:tspan", { text: this.words("label.node"), dy: "1.2em", cls: "strong" }, t);
      if (flags) el("svg:tspan", { text: "  " + flags, cls: "small" }, t);
    } else {
      const top = a.side === "above";
      t.setAttribute("x", (a.x + 0.05) * U);
      t.setAttribute("y", top ? -(a.y + a.h) * U : -a.y * U);
      const lines = [[a.name || a.key, "strong"]];
      if (a.sub) lines.push([a.sub, "small"]);
      if (a.route && this.scene.lod === "full") lines.push([a.route, "small"]);
      if (top) lines.forEach(([s, c], i) => el("svg:tspan", { text: s, x: (a.x + 0.05) * U, dy: i ? "1.15em" : "1.1em", cls: c }, t));
      else {
        const n = lines.length;
        lines.forEach(([s, c], i) => el("svg:tspan", { text: s, x: (a.x + 0.05) * U, dy: i ? "1.15em" : (-(n - 1) * 1.15 - 0.35) + "em", cls: c }, t));
      }
    }
    return [g, t];
  }

  drawCtr(id, a, gm, gl) {
    const [x, y] = this.xy(a);
    const g = el("svg:g", { cls: "item ctr" }, gm);
    el("svg:path", { d: `M${x},${y - 8} L${x + 8},${y + 6} L${x - 8},${y + 6} Z` }, g);
    const t = el("svg:text", { cls: "lbl ctr-lbl", x, y: y + 8 }, gl);
    el("svg:tspan", { text: a.name, x, dy: "1.1em", cls: "strong" }, t);
    el("svg:tspan", { text: "(" + (a.sharesName || this.words("label.node")) + ")", x, dy: "1.15em", cls: "small" }, t);
    t.setAttribute("text-anchor", "middle");
    return [g, t];
  }

  drawLink(id, a, gm, gl, ghost) {
    const [x, y] = this.xy(a);
    const down = !a.up || (a.state && a.state !== "UP" && a.state !== "UNKNOWN");
    const g = el("svg:g", { cls: `item link role-${a.role}` + (down ? " down" : "") + (ghost ? " ghost" : "") }, gm);
    g.dataset.ns = a.ns;
    if (a.role === "bridge") el("svg:rect", { x: x - 6, y: y - 6, width: 12, height: 12 }, g);
    else if (a.role === "uplink") el("svg:path", { d: `M${x},${y - 8} L${x + 8},${y} L${x},${y + 8} L${x - 8},${y} Z` }, g);
    else el("svg:circle", { cx: x, cy: y, r: a.role === "lo" ? 4 : 6 }, g);
    el("svg:circle", { cx: x, cy: y, r: 13, cls: "ring" }, g);
    const t = el("svg:text", { cls: `lbl link-lbl role-${a.role}` }, gl);
    t.dataset.ns = a.ns;
    let [dx, dy] = a.dir || [0, -1];
    const anchor = dx > 0 ? "start" : dx < 0 ? "end" : "middle";
    t.setAttribute("text-anchor", anchor);
    const ox = x + dx * 12, oy = y - dy * 12;
    t.setAttribute("x", ox); t.setAttribute("y", oy);
    const head = a.name + (down && a.role !== "lo" ? " " + (a.state || "DOWN") : "");
    const lines = [[head, "strong"]];
    if (a.role !== "lo") {
      for (const ad of a.addrs.slice(0, 2)) lines.push([ad, ""]);
      if (a.mac && this.scene.lod === "full" && a.role !== "bridge") lines.push([a.mac, "small"]);
    }
    const n = lines.length;
    // dy of the first line: below the mark (dy<0 means down on screen), above, or centred
    const first = dy < 0 ? 0.9 : dy > 0 ? -(n - 1) * 1.15 - 0.2 : -(n - 1) * 1.15 / 2 + 0.35;
    lines.forEach(([s, c], i) => el("svg:tspan", { text: s, x: ox, dy: (i ? 1.15 : first) + "em", cls: c }, t));
    return [g, t];
  }

  drawEdge(k) {
    const old = this.wires.get(k);
    const e = this.edges.get(k);
    if (!e) { if (old) { old.remove(); this.wires.delete(k); } return; }
    const [kind, u, v] = e;
    const a = this.items.get(u), b = this.items.get(v);
    if (!a || !b) { if (old) { old.remove(); this.wires.delete(k); } return; }
    let p, q;
    if (kind === "shares") {
      const c = a.k === "ctr" ? a : b, n = a.k === "ctr" ? b : a;
      p = this.xy(c);
      q = n.k === "ns" ? [Math.min(Math.max(p[0], n.x * U), (n.x + n.w) * U), Math.min(Math.max(p[1], -(n.y + n.h) * U), -n.y * U)] : this.xy(n);
    } else {
      if (a.k !== "link" || b.k !== "link") return;
      p = this.xy(a); q = this.xy(b);
      if (kind === "port") {
        const [port, br] = a.role === "bridge" ? [b, a] : [a, b];
        p = this.xy(port); q = this.xy(br);
        if (q[0] <= p[0]) q = [p[0], q[1]];
      }
    }
    const down = kind === "veth" && [a, b].some((x) => x.state !== "UP");
    const cls = `wire ${kind}` + (down ? " down" : "");
    const sig = `${p[0]},${p[1]},${q[0]},${q[1]},${cls}`;
    if (old && old.__sig === sig) return; // unchanged: leave the DOM alone
    if (old) old.remove();
    const line = el("svg:line", { x1: p[0], y1: p[1], x2: q[0], y2: q[1], cls }, this.gWires);
    line.__sig = sig;
    line.dataset.edge = k;
    const pod = [a, b].find((x) => x.k === "link" && x.ns !== this.scene.root);
    if (pod) { // folds with its pod
      line.dataset.ns = pod.ns;
      if (this.collapsed && this.collapsed.has(pod.ns)) line.classList.add("collapsed");
    }
    this.wires.set(k, line);
  }

  drawBars() { // a bar from each bridge to its farthest port
    for (const b of this.gWires.querySelectorAll(".bar")) b.remove();
    const far = new Map();
    for (const [, [kind, u, v]] of this.edges) {
      if (kind !== "port") continue;
      const a = this.items.get(u), b = this.items.get(v);
      if (!a || !b) continue;
      const [port, br] = a.role === "bridge" ? [b, a] : [a, b];
      const id = a.role === "bridge" ? u : v;
      far.set(id, Math.max(far.get(id) || br.x + 0.3, port.x));
    }
    for (const [id, a] of this.items) {
      if (a.k !== "link" || a.role !== "bridge") continue;
      const [x, y] = this.xy(a);
      el("svg:line", { x1: x, y1: y, x2: (far.get(id) || a.x + 0.3) * U, y2: y, cls: "wire bar" }, this.gWires);
    }
  }

  // ------------------------------------------------------------------ a step
  show(i) {
    i = Math.max(0, Math.min(i, this.steps.length - 1));
    if (i === this.at) return;
    this.stopPacket();
    const prevHl = this.steps[this.at] ? Object.keys(this.steps[this.at].hl) : [];
    const [ids, es] = this.goto(i);
    for (const id of prevHl) ids.add(id);
    for (const id of ids) this.drawItem(id);
    for (const id of ids) for (const k of this.adj.get(id) || []) es.add(k);
    for (const k of es) this.drawEdge(k);
    for (const id of ids) if (id.startsWith("ns:")) this.nsTouched.add(id.slice(3));
    this.barsDirty = this.barsDirty || [...es].some((k) => { const e = this.edges.get(k); return !e || e[0] === "port"; })
      || [...ids].some((id) => { const a = this.items.get(id); return !a || a.role === "bridge"; });
    this.paintStep();
    this.onStep(this.at);
  }

  paintStep() {
    const s = this.steps[this.at], n = this.steps.length;
    this.root.setAttribute("data-step", String(this.at));
    this.slider.value = String(this.at);
    this.counter.textContent = this.words("step.counter", { i: this.at + 1, n });
    this.bFirst.disabled = this.bBack.disabled = this.at === 0;
    this.bNext.disabled = this.bLast.disabled = this.at === n - 1;
    // highlights
    for (const e of this.lit || []) e.classList.remove("hl", "hl-added", "hl-changed", "hl-removed", "hl-moved");
    this.lit = [];
    this.gGhost.innerHTML = "";
    const focus = [];
    const prev = this.at > 0 ? null : null;
    for (const id in s.hl) {
      const st = s.hl[id];
      const parts = this.nodes.get(id);
      if (parts) { for (const p of parts) { p.classList.add("hl", "hl-" + st); this.lit.push(p); } focus.push(this.items.get(id)); }
      else if (st === "removed") this.ghost(id, focus);
      if (st === "moved") this.trail(id);
    }
    for (const k in s.eadd) { const w = this.wires.get(k); if (w) { w.classList.add("hl", "hl-added"); this.lit.push(w); } }
    if (this.barsDirty !== false) { this.drawBars(); this.barsDirty = false; }
    this.root.classList.toggle("focusing", Object.keys(s.hl).length > 0);
    this.updateGroups(s);
    // words
    const actor = s.actor ? ` (${s.actor})` : "";
    this.title.textContent = "";
    el("b", { text: this.words("step.counter", { i: this.at + 1, n }) + " " }, this.title);
    el("span", { text: s.title, cls: "simlab-title-text" }, this.title);
    el("span", { text: actor, cls: "simlab-actor" }, this.title);
    this.why.textContent = s.why;
    this.cmds.innerHTML = "";
    if (s.commands.length) {
      el("b", { text: this.words("label.commands") }, this.cmds);
      el("pre", { text: s.commands.map((c) => "$ " + c).join("\n") }, this.cmds);
    }
    if (s.mirrors) el("div", { text: this.words("label.mirrors") + ": " + s.mirrors, cls: "simlab-mirrors" }, this.cmds);
    this.badges.innerHTML = "";
    for (const b of s.badges) el("span", { cls: "simlab-badge", text: b }, this.badges);
    this.root.classList.toggle("has-badges", s.badges.length > 0);
    this.bringIntoView(focus.filter(Boolean));
    this.fillNsSelect(s);
    this.renderInspect();
    this.setWalk(s.packet || null);
  }

  ghost(id, focus) {
    const old = this.inv[this.at] && this.inv[this.at].set[id];
    if (!old) return;
    const parts = old.k === "ns" ? this.drawNs(id, old, this.gGhost, this.gGhost, true)
      : old.k === "link" ? this.drawLink(id, old, this.gGhost, this.gGhost, true) : [];
    for (const p of parts) p.classList.add("hl", "hl-removed");
    focus.push(old);
  }

  trail(id) {
    const old = this.inv[this.at] && this.inv[this.at].set[id];
    const now = this.items.get(id);
    if (!old || !now || old.k !== "link") return;
    const [x1, y1] = this.xy(old), [x2, y2] = this.xy(now);
    el("svg:line", { x1, y1, x2, y2, cls: "trail" }, this.gGhost);
  }

  updateGroups(s) {
    this.gGroups.innerHTML = "";
    const hot = new Set();
    for (const id in s.hl) {
      const a = this.items.get(id) || (this.inv[this.at] && this.inv[this.at].set[id]);
      if (a) hot.add(a.k === "ns" ? a.key : a.ns);
    }
    if (this.pinnedNs) hot.add(this.pinnedNs);
    const collapsed = new Set();
    for (const g of this.scene.groups || []) {
      if (this.expanded.has(g.id)) continue;
      const alive = g.members.filter((m) => this.items.has("ns:" + m));
      const hidden = alive.filter((m, j) => j >= 2 && !hot.has(m));
      if (hidden.length < 3) continue;
      for (const m of hidden) collapsed.add(m);
      const first = this.items.get("ns:" + hidden[0]);
      const t = el("svg:text", { cls: "group-lbl lbl", x: first.x * U, y: -(first.y + first.h / 2) * U, "data-simlab": "group", role: "button" }, this.gGroups);
      t.dataset.group = g.id;
      el("svg:tspan", { text: "+ " + this.words("pic.group", { n: hidden.length }), dy: "0.35em" }, t);
    }
    const was = this.collapsed || new Set();
    this.collapsed = collapsed;
    const change = new Set([...was].filter((m) => !collapsed.has(m)).concat([...collapsed].filter((m) => !was.has(m))));
    if (!change.size) return;
    for (const [, parts] of this.nodes) for (const e of parts) {
      if (change.has(e.dataset.ns)) e.classList.toggle("collapsed", collapsed.has(e.dataset.ns));
    }
    for (const [, w] of this.wires) {
      if (change.has(w.dataset.ns)) w.classList.toggle("collapsed", collapsed.has(w.dataset.ns));
    }
  }

  // ------------------------------------------------------------------ view
  width() { // read once per resize: reading layout between DOM writes would force it
    if (!this.cachedWidth) this.cachedWidth = this.svg.clientWidth || this.root.clientWidth || 800;
    return this.cachedWidth;
  }

  sizeSvg() {
    const w = this.width();
    const fitH = this.world.h * w / this.world.w;
    // leave room for the buttons and the packet's events on a short screen
    const max = Math.min(this.presenter ? 700 : 560, Math.max(260, (window.innerHeight || 800) * 0.6));
    this.svgH = Math.max(220, Math.min(fitH, max));
    this.svg.style.height = this.svgH + "px";
  }

  fit(user) {
    this.userView = !!user;
    const w = this.width(), h = this.svgH;
    const k = Math.max(this.world.w / w, this.world.h / h);
    this.view = { x: this.world.x, y: this.world.y, w: w * k, h: h * k };
    this.view.x = this.world.x + (this.world.w - this.view.w) / 2;
    if (!user) {
      // too small to read: zoom to where the change is, at a size labels fit
      // a pod's box must hold ten characters across and its label lines down
      const [bw, bh] = this.boxWH();
      const zoom = Math.max(this.boxMinPx() / (bw * U), this.fontPx() * this.boxLines() / (bh * U));
      if (zoom > 1 / k) this.zoomTo(zoom, this.focusCenter());
    }
    this.applyView();
  }

  boxW() { return this.boxWH()[0]; }

  boxWH() { // a pod box's size in layout inches (every pod's box has the same)
    for (const [, a] of this.items) if (a.k === "ns" && a.key !== this.scene.root) return [a.w, a.h];
    for (const st of this.steps) for (const id in st.set) {
      const a = st.set[id];
      if (a.k === "ns" && a.key !== this.scene.root) return [a.w, a.h];
    }
    return [2, 1.15];
  }

  boxLines() { // a pod box's label lines, in font heights: its own (name, key, default route)
    // from the bottom edge and its links' (name, addresses, MAC) from the top, with their gaps
    const own = new Map(), links = new Map();
    for (const [, a] of this.items) {
      if (a.k === "ns" && a.key !== this.scene.root) {
        own.set(a.key, 1 + (a.sub ? 1 : 0) + (a.route && this.scene.lod === "full" ? 1 : 0));
      } else if (a.k === "link" && a.ns !== this.scene.root && a.role !== "lo") {
        const n = 1 + Math.min(a.addrs.length, 2) + (a.mac && this.scene.lod === "full" ? 1 : 0);
        links.set(a.ns, Math.max(links.get(a.ns) || 0, n));
      }
    }
    let most = 4.3; // five lines as before (1.2 x 5.2 font heights) when boxes hold fewer
    for (const [key, n] of own) most = Math.max(most, n + (links.get(key) || 0));
    return most * 1.15 + 1.2;
  }

  boxMinPx() { return this.fontPx() * 0.62 * 10; } // ten characters of a label

  fontPx() { return this.presenter ? 22 : 13; }

  zoomTo(pxPerUnit, center) {
    const w = this.width(), h = this.svgH;
    const vw = w / pxPerUnit, vh = h / pxPerUnit;
    const c = center || [this.view.x + this.view.w / 2, this.view.y + this.view.h / 2];
    this.view = { x: c[0] - vw / 2, y: c[1] - vh / 2, w: vw, h: vh };
  }

  zoomBy(f, ev) {
    this.userView = true;
    const k = this.width() / this.view.w;
    let c;
    if (ev) {
      const r = this.svg.getBoundingClientRect();
      c = [this.view.x + (ev.clientX - r.left) / k, this.view.y + (ev.clientY - r.top) / k];
    }
    this.zoomTo(k * f, c);
    this.applyView();
  }

  focusCenter() {
    const s = this.steps[this.at];
    const pts = [];
    for (const id in s.hl) {
      const a = this.items.get(id);
      if (!a) continue;
      // a pod's or container's link sits on its box's edge: frame the whole box, whose
      // name says where the link is
      const box = a.k === "link" && a.ns !== this.scene.root ? this.boxOf(a.ns) : null;
      pts.push(this.center(box || a));
    }
    if (!pts.length) return null;
    return [pts.reduce((t, p) => t + p[0], 0) / pts.length, pts.reduce((t, p) => t + p[1], 0) / pts.length];
  }

  boxOf(key) {
    for (const b of this.existing()) if (b.key === key) return b;
    return null;
  }

  center(a) { return a.k === "ns" ? [(a.x + a.w / 2) * U, -(a.y + a.h / 2) * U] : this.xy(a); }

  bringIntoView(items) {
    if (!this.view || !items.length) return;
    const v = this.view, pad = 40 * v.w / this.width();
    let moved = false;
    // only items outside the view move it (a pod's box counts by its centre)
    for (const a of items) {
      if (a.k === "ns" && a.key === this.scene.root) continue;
      const [x, y] = this.center(a);
      if (x < v.x + pad || x > v.x + v.w - pad || y < v.y + pad || y > v.y + v.h - pad) { moved = true; break; }
    }
    if (!moved) return;
    const c = this.focusCenter();
    if (c) { v.x = c[0] - v.w / 2; v.y = c[1] - v.h / 2; this.applyView(); }
  }

  applyView() {
    const v = this.view;
    if (!v) return;
    // keep the view's aspect the SVG's, so the scale is the same both ways (labels exact)
    const h = v.w * this.svgH / this.width();
    v.y += (v.h - h) / 2;
    v.h = h;
    this.svg.setAttribute("viewBox", `${v.x} ${v.y} ${v.w} ${v.h}`);
    const k = this.width() / v.w; // screen px per unit
    if (k !== this.shownK) { // a pan keeps the zoom: no restyle of every label
      this.shownK = k;
      this.gWorld.style.fontSize = (this.fontPx() / k) + "px";
      this.gWorld.style.setProperty("--sw", (1 / k) + "px");
    }
    const boxPx = this.boxW() * U * k;
    this.root.classList.toggle("tight", boxPx < this.boxMinPx());
    this.root.classList.toggle("tiny", boxPx < this.fontPx() * 0.62 * 4);
    this.root.dataset.zoom = k.toFixed(3);
  }

  // ------------------------------------------------------------------ inspect
  onClick(ev) {
    if (this.justDragged) { this.justDragged = false; return; }
    let e = ev.target;
    while (e && e !== this.svg) {
      if (e.dataset && e.dataset.group) {
        this.expanded.add(e.dataset.group);
        this.updateGroups(this.steps[this.at]);
        return;
      }
      if (e.dataset && e.dataset.ns !== undefined) {
        this.pinnedNs = e.dataset.ns;
        this.fillNsSelect(this.steps[this.at]);
        this.renderInspect();
        return;
      }
      e = e.parentNode;
    }
  }

  existing() {
    if (this.nsList) return this.nsList;
    const out = [];
    for (const [, a] of this.items) if (a.k === "ns") out.push(a);
    this.nsList = out;
    return out;
  }

  fillNsSelect(s) {
    if (this.nsDirty || this.nsTouched.size) this.nsList = null;
    const all = this.existing();
    const keys = new Set(all.map((a) => a.key));
    if (this.pinnedNs !== null && !keys.has(this.pinnedNs)) this.pinnedNs = null;
    const follow = (s.focus || []).find((k) => keys.has(k));
    this.ns = this.pinnedNs !== null ? this.pinnedNs : follow !== undefined ? follow : (this.ns !== undefined && keys.has(this.ns) ? this.ns : (all.find((a) => a.key !== this.scene.root) || all[0] || {}).key);
    const label = (a) => a.key === this.scene.root ? this.words("label.node") : (a.name && a.name !== a.key ? `${a.name} (${a.key.slice(0, 12)})` : a.key);
    if (this.nsDirty) { // all of them (a new scene)
      this.nsDirty = false;
      this.nsTouched.clear();
      this.options = new Map();
      this.nsSelect.innerHTML = "";
      for (const a of all) this.options.set(a.key, el("option", { value: a.key, text: label(a) }, this.nsSelect));
    } else { // only the namespaces the steps touched
      for (const key of this.nsTouched) {
        const a = this.items.get("ns:" + key), o = this.options.get(key);
        if (!a && o) { o.remove(); this.options.delete(key); }
        else if (a && !o) this.options.set(key, el("option", { value: key, text: label(a) }, this.nsSelect));
        else if (a && o && o.textContent !== label(a)) o.textContent = label(a);
      }
      this.nsTouched.clear();
    }
    if (this.ns !== undefined) this.nsSelect.value = this.ns;
  }

  textFor(ns, what, step) {
    const sc = this.scene;
    if (!sc.texts) return undefined;
    const key = ns + "|" + what;
    for (let j = step; j >= 0; j--) {
      const tx = this.steps[j].texts;
      if (tx && key in tx) return tx[key] < 0 ? null : sc.texts[tx[key]];
    }
    return key in sc.baseTexts ? sc.texts[sc.baseTexts[key]] : null;
  }

  renderInspect() {
    const ns = this.ns, at = this.at;
    if (this.nsSelect.value !== ns && ns !== undefined) this.nsSelect.value = ns;
    this.inspect.innerHTML = "";
    if (ns === undefined) return;
    if (this.picked) this.picked.classList.remove("picked");
    const box = (this.nodes.get("ns:" + ns) || [])[0];
    this.picked = box || null;
    if (box) box.classList.add("picked");
    const cmd = (what) => this.scene.commands[what].replace(ns === this.scene.root ? " -n NS" : "NS", ns === this.scene.root ? "" : ns);
    const whats = ["a", "route", "neigh", "fdb"];
    const got = {};
    let missing = false;
    for (const w of whats) {
      const key = `${at}|${ns}|${w}`;
      let t = this.textCache.has(key) ? this.textCache.get(key) : this.textFor(ns, w, at);
      if (t === undefined) missing = true;
      got[w] = t;
    }
    if (missing && this.askTexts) {
      this.askTexts(at, ns).then((texts) => {
        for (const w of whats) this.textCache.set(`${at}|${ns}|${w}`, texts ? texts[w] : null);
        if (this.at === at && this.ns === ns) this.renderInspect();
      });
    }
    const rule = this.walk && this.walk.frames[this.hop] && this.walk.frames[this.hop].ns === ns ? this.walk.frames[this.hop].rule : "";
    for (const w of whats) {
      const t = got[w];
      if (t === "" && w !== "a") continue; // nothing to show (no neighbours yet)
      const box = el("div", { cls: "simlab-show simlab-show-" + w }, this.inspect);
      el("code", { text: "$ " + cmd(w), cls: "simlab-cmd" }, box);
      const pre = el("pre", {}, box);
      if (t === null) pre.textContent = this.words("pic.absent", { ns });
      else if (t === undefined) pre.textContent = "...";
      else for (const line of t.replace(/\n$/, "").split("\n")) {
        const span = el("span", { text: line + "\n" }, pre);
        if (rule && line.trim() && (line.includes(rule) || rule.includes(line.trim()))) span.className = "lit";
      }
    }
  }

  // ------------------------------------------------------------------ packets
  setWalk(w) {
    this.stopPacket();
    this.walk = w;
    this.hop = 0;
    this.gPacket.innerHTML = "";
    this.packetBox.innerHTML = "";
    this.root.classList.toggle("has-packet", !!(w && w.frames.length));
    if (!w || !w.frames.length) return;
    const bar = el("div", { cls: "simlab-bar" }, this.packetBox);
    this.bHopBack = el("button", { cls: "simlab-btn", type: "button", "data-simlab": "hop-back", text: this.words("pic.hop_back") }, bar);
    this.bHopPlay = el("button", { cls: "simlab-btn", type: "button", "data-simlab": "play-packet", text: this.words("pic.play_packet") }, bar);
    this.bHopNext = el("button", { cls: "simlab-btn", type: "button", "data-simlab": "hop-next", text: this.words("pic.hop_next") }, bar);
    this.hopHead = el("span", { cls: "simlab-counter" }, bar);
    this.bHopBack.onclick = () => { this.stopPacket(); this.setHop(this.hop - 1); };
    this.bHopNext.onclick = () => { this.stopPacket(); this.setHop(this.hop + 1); };
    this.bHopPlay.onclick = () => (this.hopTimer ? this.stopPacket() : this.playPacket());
    const cols = el("div", { cls: "simlab-packet-cols" }, this.packetBox);
    const evs = el("div", { cls: "simlab-events" }, cols);
    el("b", { text: this.words("pic.events") }, evs);
    this.events = el("ol", { "data-simlab": "events" }, evs);
    w.frames.forEach((f, i) => {
      const li = el("li", { cls: "leg-" + f.leg }, this.events);
      el("span", { cls: "leg", text: (f.leg === "reply" ? "A " : "R ") }, li);
      el("span", { text: (f.ns === this.scene.root ? this.words("label.node") : (this.scene.names[f.ns] || f.ns)) + (f.dev ? " " + f.dev + (f.way ? " " + f.way : "") : "") + ": " }, li);
      el("span", { text: f.text || "" }, li);
      li.onclick = () => { this.stopPacket(); this.setHop(i); };
    });
    if (!w.ok || !w.reply_ok) el("div", { cls: "simlab-drop", text: this.words("pic.drop", { error: w.error || "-" }) }, evs);
    this.hdrBox = el("div", { cls: "simlab-headers", "data-simlab": "headers" }, cols);
    const g = el("svg:g", { cls: "packet", "data-simlab": "packet" }, this.gPacket);
    el("svg:path", { d: "M-14,-9 L10,-9 L18,0 L10,9 L-14,9 Z" }, g);
    this.packetText = el("svg:text", { x: -2, y: 0, dy: "0.35em", "text-anchor": "middle", cls: "packet-txt" }, g);
    this.packetMark = g;
    this.setHop(0);
  }

  setHop(i) {
    const w = this.walk;
    if (!w) return;
    i = Math.max(0, Math.min(i, w.frames.length - 1));
    this.hop = i;
    const f = w.frames[i];
    const a = this.items.get(f.at);
    const [x, y] = a ? this.center(a) : [0, 0];
    const k = this.width() / this.view.w;
    const z = this.presenter ? 1.6 : 1; // the mark and its letter grow with the labels
    this.packetMark.setAttribute("transform", `translate(${x},${y - 18 * z / k}) scale(${z / k})`);
    this.packetMark.dataset.hop = String(i);
    this.packetMark.classList.toggle("reply", f.leg === "reply");
    this.packetText.textContent = f.leg === "reply" ? "A" : "R";
    this.hopHead.textContent = `${this.words(f.leg === "reply" ? "pic.reply" : "pic.request")} ${i + 1}/${w.frames.length}`;
    [...this.events.children].forEach((li, j) => li.classList.toggle("now", j === i));
    for (const e of this.root.querySelectorAll(".lit-item")) e.classList.remove("lit-item");
    for (const p of this.nodes.get(f.at) || []) p.classList.add("lit-item");
    this.hdrBox.innerHTML = "";
    el("b", { text: this.words("pic.headers") }, this.hdrBox);
    const h = f.hdr || {};
    const rows = [];
    if (h.src_mac || h.dst_mac) rows.push(`${h.src_mac} > ${h.dst_mac}`);
    if (h.src || h.dst) rows.push(`${h.src} > ${h.dst}  ${h.proto || ""} ttl ${h.ttl}`);
    if (!rows.length) rows.push(`${w.src || "?"} > ${w.dst}`);
    el("pre", { text: rows.join("\n") }, this.hdrBox);
    if (f.rule) { el("b", { text: this.words("pic.rule") }, this.hdrBox); el("pre", { cls: "lit", text: f.rule }, this.hdrBox); }
    if (this.ns !== f.ns && this.existing().some((b) => b.key === f.ns)) { this.ns = f.ns; this.pinnedNs = f.ns; this.nsSelect.value = f.ns; }
    this.renderInspect();
  }

  playPacket() {
    if (!this.walk) return;
    if (this.hop >= this.walk.frames.length - 1) this.setHop(0);
    this.bHopPlay.textContent = this.words("nav.pause");
    this.hopTimer = setInterval(() => {
      if (this.hop >= this.walk.frames.length - 1) { this.stopPacket(); return; }
      this.setHop(this.hop + 1);
    }, this.opts.hopMs || 700);
  }

  stopPacket() {
    if (this.hopTimer) { clearInterval(this.hopTimer); this.hopTimer = null; }
    if (this.bHopPlay) this.bHopPlay.textContent = this.words("pic.play_packet");
  }

  // ------------------------------------------------------------------ play
  togglePlay() { this.timer ? this.stop() : this.play(); }

  play() {
    if (this.at >= this.steps.length - 1) this.show(0);
    this.bPlay.textContent = this.words("nav.pause");
    this.timer = setInterval(() => {
      if (this.at >= this.steps.length - 1) { this.stop(); return; }
      this.show(this.at + 1);
    }, this.opts.intervalMs || 1600);
  }

  stop() {
    if (this.timer) { clearInterval(this.timer); this.timer = null; }
    if (this.bPlay && this.scene) this.bPlay.textContent = this.words("nav.play");
  }

  // ------------------------------------------------------------------ legend
  drawLegend() {
    const L = this.legend;
    L.innerHTML = "";
    el("summary", { text: this.words("pic.legend") }, L);
    const row = el("div", { cls: "simlab-legend-items" }, L);
    const item = (word, draw) => {
      const s = el("span", { cls: "simlab-legend-item" }, row);
      const svg = el("svg:svg", { width: 34, height: 22, viewBox: "-17 -11 34 22", "aria-hidden": "true" }, s);
      draw(svg);
      el("span", { text: this.words(word) }, s);
    };
    item("pic.namespace", (g) => el("svg:rect", { x: -14, y: -8, width: 28, height: 16, rx: 3, cls: "lg-ns" }, g));
    item("pic.link", (g) => el("svg:circle", { r: 6, cls: "lg-link" }, g));
    item("pic.bridge", (g) => { el("svg:line", { x1: 0, y1: 0, x2: 16, y2: 0, cls: "lg-bar" }, g); el("svg:rect", { x: -6, y: -6, width: 12, height: 12, cls: "lg-bridge" }, g); });
    item("pic.uplink", (g) => el("svg:path", { d: "M0,-8 L8,0 L0,8 L-8,0 Z", cls: "lg-uplink" }, g));
    item("pic.container", (g) => el("svg:path", { d: "M0,-8 L8,6 L-8,6 Z", cls: "lg-ctr" }, g));
    item("pic.down", (g) => { el("svg:line", { x1: -16, y1: 0, x2: 16, y2: 0, cls: "lg-down-wire" }, g); el("svg:circle", { r: 6, cls: "lg-down" }, g); });
    for (const st of ["added", "changed", "removed"]) item("pic." + st, (g) => el("svg:circle", { r: 9, cls: "lg-ring lg-" + st }, g));
    item("pic.moved", (g) => el("svg:line", { x1: -16, y1: 0, x2: 16, y2: 0, cls: "lg-trail" }, g));
    item("pic.packet", (g) => el("svg:path", { d: "M-14,-7 L8,-7 L15,0 L8,7 L-14,7 Z", cls: "lg-packet" }, g));
  }

  destroy() {
    this.stop();
    this.stopPacket();
    if (this.resizer) this.resizer.disconnect();
  }
}

// ------------------------------------------------------------------ anywidget
function render({ model, el: host }) {
  const root = document.createElement("div");
  root.className = "simlab-stepper";
  host.appendChild(root);
  let seq = 0;
  const waiting = new Map();
  model.on("msg:custom", (msg) => {
    if (msg && msg.type === "texts" && waiting.has(msg.id)) { waiting.get(msg.id)(msg.texts); waiting.delete(msg.id); }
  });
  // `make lab-present` sets JupyterLab's content font to 18 px: present then too
  const content = parseFloat(getComputedStyle(document.documentElement)
    .getPropertyValue("--jp-content-font-size1")) || 14;
  const pic = new Picture(root, model.get("scene"), {
    step: model.get("step"),
    presenter: model.get("presenter") || content >= 18,
    compact: model.get("compact"),
    intervalMs: model.get("interval_ms"),
    onStep: (i) => { model.set("step", i); model.save_changes(); },
    askTexts: (step, ns) => new Promise((resolve) => {
      const id = ++seq;
      waiting.set(id, resolve);
      model.send({ type: "texts", id, step, ns });
    }),
  });
  model.on("change:step", () => { const i = model.get("step"); if (i !== pic.at) pic.show(i); });
  model.on("change:scene", () => pic.load(model.get("scene"), model.get("step")));
  model.on("change:walk", () => { const w = model.get("walk"); pic.setWalk(w && w.frames ? w : (pic.steps[pic.at].packet || null)); });
  model.on("change:presenter", () => { pic.presenter = model.get("presenter"); pic.load(pic.scene, pic.at); });
  const w = model.get("walk");
  if (w && w.frames) pic.setWalk(w);
  return () => pic.destroy();
}

// ------------------------------------------------------------------ HTML export
function mount(host, scene, opts) {
  const root = document.createElement("div");
  root.className = "simlab-stepper";
  host.appendChild(root);
  return new Picture(root, scene, opts || {});
}

export default { render };
export { render, mount, Picture };
