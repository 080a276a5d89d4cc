"""The Stepper and the docker-mode comparison, driven from Python (no kernel, no browser)."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402

pytest.importorskip("ipywidgets")

from PIL import Image  # noqa: E402

from simlab import widgets  # noqa: E402
from simlab.model import ROOT  # noqa: E402
from simlab.timeline import Timeline  # noqa: E402
from simlab.views._samples import bridge_pods, churn, veth_pair  # noqa: E402
from simlab.widgets import Stepper, compare_modes, mode_panels  # noqa: E402


@pytest.fixture(scope="module")
def lab():
    return veth_pair()


def test_buttons_and_slider_move_the_shown_step(lab):
    s = Stepper(lab, ns="red")
    assert s.index == 0 and "netns red" in s.title.value and "1/9" in s.title.value
    assert s.back_btn.disabled and s.first_btn.disabled and not s.next_btn.disabled
    s.next_btn.click()
    s.next_btn.click()
    assert s.index == 2 and "veth pair" in s.title.value
    assert s.highlight.added == {"if:/veth1", "if:/veth2"}
    assert "ip link add veth1 type veth peer name veth2" in s.commands.value
    s.back_btn.click()
    assert s.index == 1 and "netns blue" in s.title.value
    s.last_btn.click()
    assert s.index == 8 and s.next_btn.disabled and s.last_btn.disabled
    s.next_btn.click()  # past the end: stays
    assert s.index == 8
    s.first_btn.click()
    assert s.index == 0
    s.slider.value = 3
    assert "veth1 to red" in s.title.value and s.highlight.moved == {"if:/veth1"}
    s.play.value = 5  # the Play widget drives the slider
    assert s.index == 5 and "rename to eth0" in s.title.value


def test_the_panel_shows_routes_the_arp_cache_and_the_fdb_too():
    import simlab

    real = simlab.Lab(backend="model")
    for cmd in ("netns add a", "netns add b", "link add br0 type bridge", "link set br0 up",
                "link add ha type veth peer name eth0 netns a", "link set ha master br0",
                "link add hb type veth peer name eth0 netns b", "link set hb master br0",
                "link set ha up", "link set hb up", "-n a addr add 10.7.0.1/24 dev eth0",
                "-n b addr add 10.7.0.2/24 dev eth0", "-n a link set eth0 up",
                "-n b link set eth0 up"):
        real.ip(cmd)
    real.ping("a", "10.7.0.2")
    s = Stepper(real, ns="a")
    s.show(len(s.frames) - 1)  # the ping
    s.show_dropdown.value = "neigh"
    assert "$ ip -n a neigh" in s.ipa.value
    assert s.ipa_text().startswith("10.7.0.2 dev eth0 lladdr ") and "REACHABLE" in s.ipa_text()
    assert "simlab-ipa-new" in s.ipa.value  # the ping made that line
    s.show_dropdown.value = "route"
    assert s.ipa_text() == "10.7.0.0/24 dev eth0 proto kernel scope link src 10.7.0.1 \n"
    s.ns_dropdown.value = ROOT
    s.show_dropdown.value = "fdb"
    assert "$ bridge fdb" in s.ipa.value and "master br0" in s.ipa_text()
    s.show(0)
    s.show_dropdown.value = "neigh"
    s.ns_dropdown.value = "a"
    assert s.ipa_text() == ""  # before anything: an empty table


def test_ipa_panel_shows_the_namespace_at_that_step(lab):
    s = Stepper(lab, ns="red")
    s.show(2)  # the pair is still in the node
    assert "$ ip -n red a" in s.ipa.value
    assert "veth1" not in s.ipa_text() and s.ipa_text().startswith("1: lo:")
    s.show(3)  # moved into red: its lines are marked as new
    assert "veth1" in s.ipa_text() and "simlab-ipa-new" in s.ipa.value
    s.show(8)
    text = s.ipa_text()
    assert "eth0@if" in text and "10.0.0.1/24" in text and "state UP" in text
    s.ns_dropdown.value = "blue"
    assert "10.0.0.2/24" in s.ipa.value and "$ ip -n blue a" in s.ipa.value
    s.ns_dropdown.value = ROOT
    assert "$ ip a" in s.ipa.value
    s.show(0)
    s.ns_dropdown.value = "blue"  # blue does not exist yet at step 1
    assert "does not exist" in s.ipa.value


@pytest.mark.parametrize("cache", [True, False])
def test_back_and_forth_gives_identical_pngs(lab, cache):
    s = Stepper(lab, ns="red", cache=cache)
    seen = {}
    for i in [0, 1, 2, 3, 4, 5, 6, 7, 8, 7, 6, 3, 2, 8, 0]:
        s.slider.value = i
        if i in seen:
            assert s.png == seen[i], i
        seen[i] = s.png
    assert len(set(seen.values())) == 9  # every step looks different
    im = Image.open(io.BytesIO(seen[4]))
    assert im.format == "PNG"
    if cache:
        assert s.render_count == 9
    else:
        assert s.render_count > 9


def test_stepper_on_a_timeline_and_on_steps():
    lab = bridge_pods(2)
    for source in (lab.timeline, list(lab.timeline), Timeline(list(lab.timeline))):
        s = Stepper(source, ns="pod-2", start=4)
        assert s.index == 4 and "pod-2" in s.title.value
    with pytest.raises(ValueError):
        Stepper(Timeline())


def test_unknown_namespace_falls_back_and_deleted_one_is_reported():
    s = Stepper(churn(), ns="nope")
    assert s.ns_dropdown.value == "pod-1"
    s.show(len(s.frames) - 2)  # pod-1 was deleted in this step
    assert "does not exist" in s.ipa.value
    s.last_btn.click()
    assert "eth0@if" in s.ipa.value


def test_css_classes_for_browser_tests(lab):
    s = Stepper(lab)
    classes = {c for w in (s.next_btn, s.back_btn, s.title, s.image, s.ipa) for c in w._dom_classes}
    wanted = {"simlab-next", "simlab-back", "simlab-step-title", "simlab-figure", "simlab-ipa"}
    assert wanted <= classes
    assert "simlab-stepper-host" in s.widget._dom_classes
    bundle = s._repr_mimebundle_()
    bundle = bundle[0] if isinstance(bundle, tuple) else bundle  # (data, metadata)
    assert "application/vnd.jupyter.widget-view+json" in bundle
    # the page's hooks live in the browser code the widget ships (no CDN, no network)
    esm = (widgets.STATIC / "scene.js").read_text()
    for hook in ('"picture"', '"first"', '"back"', '"next"', '"last"', '"packet"', "data-step"):
        assert hook in esm, hook
    assert "http" not in esm.replace("http://www.w3.org/2000/svg", "")


def test_japanese_and_presenter(lab):
    old = widgets.presenter(True)
    try:
        big = Stepper(lab, lang="ja")
    finally:
        widgets.presenter(old)
    small = Stepper(lab, lang="en", presenter=False)
    assert big.presenter and not small.presenter
    assert "次へ" in big.next_btn.description and "ステップ 1/9" in big.title.value
    assert big.widget.presenter and not small.widget.presenter  # the page sizes labels by it
    assert big.scene["words"]["nav.next"] == "次へ" and small.scene["words"]["nav.next"] == "Next"
    w_big = Image.open(io.BytesIO(big.png)).size[0]
    w_small = Image.open(io.BytesIO(small.png)).size[0]
    assert w_big > w_small
    assert "1.35em" in big.title.value


def test_the_page_step_and_python_agree(lab):
    """The browser reports the shown step in the synced ``step`` trait; Python reads it."""
    s = Stepper(lab, ns="red")
    s.widget.step = 5  # what a click on Next in the page does, five times
    assert s.index == 5 and s.slider.value == 5 and "rename to eth0" in s.title.value
    s.last_btn.click()
    assert s.widget.step == len(s.frames) - 1 and s.next_btn.disabled
    assert s.scene["steps"][3]["hl"] == {"if:/veth1": "moved"}


def test_steps_recorded_later_reach_an_open_stepper():
    from simlab.model import NetnsAdd

    rec = bridge_pods(1)
    s = Stepper(rec.timeline)
    n = len(s.frames)
    rec.apply(NetnsAdd("late"), title="a late namespace")
    assert len(s.frames) == n + 1 and len(s.widget.scene["steps"]) == n + 1
    assert s.widget.scene["items"].get("ns:late") is None  # not yet at the first step...
    assert "ns:late" in s.widget.scene["steps"][-1]["set"]  # ...added by the new one
    s.close()
    rec.apply(NetnsAdd("later"), title="after close")
    assert len(s.frames) == n + 1  # a closed stepper stops listening


def test_the_browser_asks_for_texts_of_big_timelines(lab, monkeypatch):
    monkeypatch.setattr(widgets, "EAGER_TEXTS", 0)
    s = Stepper(lab)
    assert s.scene["texts"] is None
    sent = []
    monkeypatch.setattr(s.widget, "send", sent.append)
    s._on_msg(s.widget, {"type": "texts", "id": 7, "step": 8, "ns": "red"}, [])
    assert sent[0]["id"] == 7 and sent[0]["texts"]["a"] == s.ipa_text(8, "red", "a")
    s._on_msg(s.widget, {"type": "texts", "id": 8, "step": 0, "ns": "nope"}, [])
    assert sent[1]["texts"] is None


def test_play_walk_sends_the_packet_frames(lab):
    from simlab.model.forward import reach

    s = Stepper(lab)
    s.last_btn.click()
    walk = reach(s.step.after, "red", "10.0.0.2")
    s.play_walk(walk)
    frames = s.widget.walk["frames"]
    assert frames and frames[0]["leg"] == "request" and frames[-1]["leg"] == "reply"
    assert all(f["at"] in s.scene["items"] or f["at"] in {
        i for st in s.scene["steps"] for i in st["set"]} for f in frames)


def test_clicks_draw_nothing_in_the_kernel(lab):
    """The browser draws each step; matplotlib runs only when a PNG is asked for."""
    s = Stepper(lab, cache=False)
    s.next_btn.click()
    s.back_btn.click()
    assert s.render_count == 0
    first, second = s.png, s.png
    assert first == second  # two draws, the same bytes
    assert s.render_count == 2


def test_compare_modes_side_by_side():
    panels = mode_panels()
    by = {p.mode: p for p in panels}
    assert list(by) == ["none", "host", "bridge", "container"]
    assert by["none"].ipa.count(": lo:") == 1 and "eth0" not in by["none"].ipa
    assert "em1" in by["host"].ipa and "docker0" in by["host"].ipa and by["host"].netns == ROOT
    assert "eth0@if" in by["bridge"].ipa and "172.17.0.2/16" in by["bridge"].ipa
    # --net container:web shows web's namespace (the one web got in the bridge panel too)
    assert by["container"].netns == by["bridge"].netns != ROOT
    assert "172.17.0.2/16" in by["container"].ipa
    assert "ctr:sidecar" in by["container"].highlight.added
    assert "ctr:web" in by["host"].highlight.added
    for p in panels:
        assert Image.open(io.BytesIO(p.png)).format == "PNG"
    grid = compare_modes(modes=("none", "bridge"), lang="ja")
    assert "simlab-compare" in grid._dom_classes and len(grid.children) == 2
    assert "docker exec web ip a" in grid.children[1].children[2].value


def test_refresh_picks_up_new_steps():
    from simlab.model import NetnsAdd

    lab = bridge_pods(1)
    s = Stepper(lab, ns="pod-1", start=3)
    n = len(s.frames)
    lab.apply(NetnsAdd("late"), title="a late namespace", why="added after the stepper")
    s.refresh()
    assert len(s.frames) == n + 1 and s.slider.max == n and s.index == 3
    assert "late" in [key for _, key in s.ns_dropdown.options]
    s.last_btn.click()
    assert "a late namespace" in s.title.value and "ns:late" in s.highlight.added


def test_page_frame_is_the_offline_page_in_an_iframe(lab):
    import html as html_mod

    frame = widgets.page_frame(lab, lang="ja", presenter=True)
    assert frame.data.startswith('<div class="simlab-frame"><iframe')
    doc = html_mod.unescape(frame.data.split('srcdoc="')[1].split('"></iframe>')[0])
    assert '"presenter": true' in doc and '"step": 8' in doc and "次へ" in doc
    with pytest.raises(ValueError):
        widgets.page_frame(Timeline())
