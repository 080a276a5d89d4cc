"""The message catalogue: complete in both languages, really translated, same fields."""

from __future__ import annotations

import dataclasses
import re

import pytest

import simlab
from simlab import i18n
from simlab.i18n import CATALOG, LANGUAGES, SAME_OK, both, fields_of, t, why_for, why_for_ops
from simlab.model import NetnsAdd, new_state
from simlab.model import ops as o
from simlab.timeline import Step, text

JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")

#: Widget and CLI labels other parts of simlab use: they must exist.
REQUIRED = ("nav.first", "nav.back", "nav.next", "nav.last", "nav.play", "step.counter",
            "label.namespace", "label.why", "label.commands", "label.mirrors")


@pytest.fixture(autouse=True)
def _restore_language():
    saved = i18n.get_language()
    yield
    i18n.set_language(saved)


def test_every_english_key_has_a_japanese_text():
    missing = [k for k in CATALOG["en"] if not CATALOG["ja"].get(k)]
    assert missing == []
    assert set(CATALOG["ja"]) == set(CATALOG["en"])


def test_no_japanese_text_is_a_copy_of_the_english_one():
    copies = [k for k, en in CATALOG["en"].items() if CATALOG["ja"][k] == en and k not in SAME_OK]
    assert copies == []


def test_japanese_texts_are_japanese():
    not_ja = [k for k, ja in CATALOG["ja"].items() if k not in SAME_OK and not JAPANESE.search(ja)]
    assert not_ja == []


def test_format_fields_match():
    ja = CATALOG["ja"]
    mismatched = {k: (fields_of(en), fields_of(ja[k]))
                  for k, en in CATALOG["en"].items() if fields_of(en) != fields_of(ja[k])}
    assert mismatched == {}


def test_the_module_check_agrees():
    assert i18n._check() == []


def test_the_check_finds_problems():
    bad = {"en": {"a": "step {i}", "b": "Next", "c": "x"}, "ja": {"a": "ステップ {n}", "b": "Next"}}
    problems = " ".join(i18n._check(bad))
    assert "a: ja fields" in problems and "b: the ja text is a copy" in problems
    assert "c: no ja text" in problems


def test_required_labels_exist():
    for key in REQUIRED:
        assert key in CATALOG["en"], key


def test_t_fills_fields_and_falls_back():
    assert t("step.counter", "en", i=1, n=3) == "step 1/3"
    assert t("step.counter", "ja", i=1, n=3) == "ステップ 1/3"
    assert t("no.such.key", "ja") == "no.such.key"
    assert t("nav.next", "fr") == "Next"  # unknown language: English
    assert t("nav.next", lang="ja") == "次へ"
    assert t("why.op.SysctlSet", "en", key="net.x").count("net.x") == 1  # a field named key


def test_set_language_changes_the_default():
    i18n.set_language("ja")
    assert i18n.get_language() == "ja"
    assert t("nav.back") == "戻る"
    i18n.set_language("en")
    assert t("nav.back") == "Back"
    with pytest.raises(ValueError):
        i18n.set_language("de")


def test_simlab_language_env(monkeypatch):
    monkeypatch.setenv("SIMLAB_LANG", "ja")
    assert i18n._initial_language() == "ja"
    monkeypatch.setenv("SIMLAB_LANG", "xx")
    assert i18n._initial_language() == "en"


def test_both_gives_every_language():
    title = both("sc.bridge.netns.title", ns="ns2")
    assert set(title.keys()) == set(LANGUAGES)  # a Text: English, with its Japanese twin
    assert title["en"] == "Create namespace ns2" and "ns2" in title["ja"]


# ------------------------------------------------------------------ why_for
def _every_op_variant():
    """One value of each operation, and of each LinkSet/LinkAdd/RouteAdd variant."""
    return [
        o.NetnsAdd("red"), o.NetnsDel("red"),
        o.LinkAdd("veth1", "veth", peer="veth2"), o.LinkAdd("br0", "bridge"),
        o.LinkDel("veth1"),
        o.LinkSet("veth1", to_netns="red"), o.LinkSet("veth1", master="br0"),
        o.LinkSet("veth1", master=""), o.LinkSet("veth1", name="eth0"),
        o.LinkSet("veth1", mac="02:00:00:00:00:01"), o.LinkSet("veth1", mtu=1400),
        o.LinkSet("veth1", promisc=True), o.LinkSet("veth1", hairpin=True),
        o.LinkSet("veth1", up=True), o.LinkSet("veth1", up=False),
        o.AddrAdd("eth0", "10.0.0.1/24"), o.AddrDel("eth0", "10.0.0.1/24"),
        o.AddrFlush("eth0"),
        o.RouteAdd("default", via="10.0.0.254"), o.RouteAdd("10.1.0.0/16", dev="eth0"),
        o.RouteDel("10.1.0.0/16"),
        o.RouteFlush(dev="eth0"), o.NeighAdd("10.0.0.2", "eth0", lladdr="02:00:00:00:00:02"),
        o.NeighDel("10.0.0.2", "eth0"), o.NeighFlush(ifname="eth0"),
        o.SysctlSet("net.ipv4.ip_forward", "1"), o.SysctlSet("net.ipv4.conf.all.rp_filter", "0"),
        o.Iptables("nat", ("-A", "POSTROUTING", "-j", "MASQUERADE")),
        o.Iptables("filter", ("-A", "FORWARD", "-j", "ACCEPT")),
        o.Ping("10.0.0.2", netns="red"),
        o.RuleAdd(src="10.9.0.0/24", table=100), o.RuleDel(pref=5), o.RuleFlush(),
    ]


def test_every_op_type_has_its_own_why():
    covered = {type(op) for op in _every_op_variant()}
    op_types = {getattr(o, n) for n in o.__all__ if isinstance(getattr(o, n), type)}
    assert op_types <= covered, f"add a why for {op_types - covered}"
    generic = t("why.op.unknown", "en")
    for op in _every_op_variant():
        for lang in LANGUAGES:
            sentence = why_for(op, lang)
            assert sentence and "{" not in sentence, (op, lang)
        assert why_for(op, "en") != generic, op
        assert why_for(op, "ja") != why_for(op, "en"), op
        assert JAPANESE.search(why_for(op, "ja")), op


def test_why_variants_differ():
    variants = [why_for(op, "en") for op in _every_op_variant() if isinstance(op, o.LinkSet)]
    assert len(set(variants)) == len(variants)


def test_why_for_the_veth_example():
    assert why_for(o.LinkAdd("veth1", "veth", peer="veth2"), "en") == (
        "A veth pair is two network interfaces joined back to back: what enters one leaves "
        "the other.")
    assert "veth" in why_for(o.LinkAdd("veth1", "veth"), "ja")


def test_why_for_fills_fields():
    assert "10.0.0.254" in why_for(o.RouteAdd("default", via="10.0.0.254"), "ja")
    assert "10.1.0.0/16" in why_for(o.RouteAdd("10.1.0.0/16", dev="eth0"), "en")
    assert "vxlan" in why_for(o.LinkAdd("vx0", "vxlan"), "en")


def test_unknown_op_gets_a_generic_why():
    @dataclasses.dataclass(frozen=True)
    class FdbAdd:
        mac: str

    assert why_for(FdbAdd("02:00:00:00:00:01"), "en") == t("why.op.unknown", "en")


def test_why_for_ops_says_each_sentence_once():
    ops = [o.LinkSet("lo", netns="red", up=True), o.LinkSet("veth1", netns="red", up=True)]
    assert why_for_ops(ops, "en") == why_for(ops[0], "en")


def test_a_typed_step_explains_its_ops():
    state = new_state()
    step = Step(title=text("ip netns add red"), why=text(""), ops=(NetnsAdd("red"),),
                before=state, after=state)
    assert step.why_in("en") == why_for(NetnsAdd("red"), "en")
    assert step.why_in("ja") == why_for(NetnsAdd("red"), "ja")
    i18n.set_language("ja")
    assert step.why_in() == why_for(NetnsAdd("red"), "ja")


def test_a_given_why_wins_and_language_defaults_to_current():
    state = new_state()
    step = Step(title={"en": "Hello", "ja": "こんにちは"}, why={"en": "Because.", "ja": "理由。"},
                ops=(NetnsAdd("red"),), before=state, after=state)
    assert step.why_in("en") == "Because."
    assert step.title_in() == "Hello"
    i18n.set_language("ja")
    assert step.title_in() == "こんにちは" and step.why_in() == "理由。"
    assert step.title_in("en") == "Hello"


def test_simlab_reexports_set_language_when_wired():
    import simlab

    if not hasattr(simlab, "set_language"):
        pytest.skip("simlab/__init__.py does not re-export set_language yet (the lead wires it)")
    assert simlab.set_language is i18n.set_language


def test_japanese_hop_lines_use_full_width_punctuation():
    """The packet walk in Japanese: ``veth：``, ``ARP：``, ``ip_forward が 1：`` (issue 16)."""
    import re

    lab = simlab.Lab(backend="model")
    lab.docker.start()
    lab.k8s.run("centos1")
    lab.k8s.add_node("k8s-node02")
    lab.k8s.run("far", node="k8s-node02")
    lines = lab.k8s.reach("centos1", "far").lines("ja")
    jp = "\u3040-\u30ff\u4e00-\u9fff"
    bad = [l for l in lines if re.search(rf"\S: |[{jp}] \(", re.sub(r"`[^`]*`", "", l))]
    assert lines and not bad, "\n".join(bad)


def test_lab_why_follows_the_language():
    """``print(lab.why)`` on the Japanese deck and notebooks is Japanese (issue 16)."""
    lab = simlab.Lab(backend="model")
    assert lab.why == "the model was asked for"
    i18n.set_language("ja")
    try:
        assert lab.why == "model が指定されました"
    finally:
        i18n.set_language("en")
    assert simlab.Lab(backend="model", lang="ja").why == "model が指定されました"
