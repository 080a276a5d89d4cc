"""Export: valid PNG, SVG, GIF (frame count) and PDF (page count), deterministic, and the CLI."""

from __future__ import annotations

import argparse
import io
import re
import xml.etree.ElementTree as ET

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402
from PIL import Image  # noqa: E402

from simlab.export import add_export_parser, export_step, export_timeline, step_png, step_svg  # noqa: E402
from simlab.views._samples import veth_pair  # noqa: E402


def pdf_pages(data: bytes) -> int:
    """Page count of a PDF: its ``/Type /Page`` objects, checked against the tree's /Count."""
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    pages = len(re.findall(rb"/Type\s*/Page(?![A-Za-z])", data))
    counts = [int(c) for c in re.findall(rb"/Count\s+(\d+)", data)]
    assert counts and max(counts) == pages
    return pages


@pytest.fixture(scope="module")
def lab():
    return veth_pair()


def test_export_everything(lab, tmp_path):
    out = export_timeline(lab, png_dir=tmp_path / "png", svg_dir=tmp_path / "svg",
                          gif=tmp_path / "veth.gif", pdf=tmp_path / "veth.pdf")
    n = len(lab.timeline)
    assert [p.name for p in out["png"]][:2] == ["step-01.png", "step-02.png"]
    assert len(out["png"]) == n
    for p in out["png"]:
        with Image.open(p) as im:
            im.verify()
        with Image.open(p) as im:
            assert im.format == "PNG" and im.size == (1000, 620)
    assert len(out["svg"]) == n
    for p in out["svg"]:
        root = ET.parse(p).getroot()
        assert root.tag.endswith("svg")
    with Image.open(out["gif"][0]) as gif:
        assert gif.format == "GIF" and gif.is_animated and gif.n_frames == n
        assert gif.info.get("loop") == 0
    assert pdf_pages(out["pdf"][0].read_bytes()) == n


def test_exports_are_deterministic(lab, tmp_path):
    a = export_timeline(lab, gif=tmp_path / "a.gif", pdf=tmp_path / "a.pdf", svg_dir=tmp_path / "a")
    b = export_timeline(lab, gif=tmp_path / "b.gif", pdf=tmp_path / "b.pdf", svg_dir=tmp_path / "b")
    assert a["gif"][0].read_bytes() == b["gif"][0].read_bytes()
    assert a["pdf"][0].read_bytes() == b["pdf"][0].read_bytes()
    assert [p.read_bytes() for p in a["svg"]] == [p.read_bytes() for p in b["svg"]]


def test_single_steps(lab, tmp_path):
    png = step_png(lab, 3)
    assert Image.open(io.BytesIO(png)).format == "PNG"
    svg = step_svg(lab, 3, lang="ja")
    assert ET.fromstring(svg).tag.endswith("svg")
    assert export_step(lab, 2, tmp_path / "s.svg").read_bytes().lstrip().startswith(b"<?xml")
    assert export_step(lab, 2, tmp_path / "s.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_japanese_handout(lab, tmp_path):
    # pyproject turns "Glyph ... missing" warnings into errors: this fails on tofu
    out = export_timeline(lab, pdf=tmp_path / "ja.pdf", gif=tmp_path / "ja.gif", lang="ja")
    assert pdf_pages(out["pdf"][0].read_bytes()) == len(lab.timeline)


def test_cli_parser(tmp_path, capsys):
    scenarios = pytest.importorskip("simlab.scenarios")
    ap = argparse.ArgumentParser(prog="simlab")
    sub = ap.add_subparsers(dest="command")
    add_export_parser(sub)
    args = ap.parse_args(["export", "veth-basics", "--gif", str(tmp_path / "v.gif"),
                          "--pdf", str(tmp_path / "v.pdf"), "--png", str(tmp_path / "png"),
                          "--lang", "ja"])
    assert args.func(args) == 0
    n = len(scenarios.run("veth-basics").timeline)
    with Image.open(tmp_path / "v.gif") as gif:
        assert gif.n_frames == n
    assert pdf_pages((tmp_path / "v.pdf").read_bytes()) == n
    assert len(list((tmp_path / "png").glob("step-*.png"))) == n
    assert "gif:" in capsys.readouterr().out
    args = ap.parse_args(["export", "veth-basics"])
    with pytest.raises(SystemExit):
        args.func(args)  # nothing to write
    args = ap.parse_args(["export", "no-such-scenario", "--gif", str(tmp_path / "x.gif")])
    with pytest.raises(SystemExit, match="unknown scenario"):
        args.func(args)


def _scene_in(page: str) -> dict:
    import json

    m = re.search(r'<script type="application/json" id="simlab-scene">(.*?)</script>', page, re.S)
    assert m
    return json.loads(m.group(1))


def test_html_export_is_one_self_contained_file(lab, tmp_path):
    from simlab import export_html

    path = export_html(lab, tmp_path / "veth.html", lang="ja")
    page = path.read_text(encoding="utf-8")
    # no network: nothing loaded from anywhere (the SVG namespace is a name, not a fetch)
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", page)
    assert "import " not in page.split("<script>")[1].split("</script>")[0].split("\n")[0]
    assert "<link" not in page and 'data-simlab", "picture"' in page
    sc = _scene_in(page)
    assert len(sc["steps"]) == len(lab.timeline) and sc["lang"] == "ja"
    assert sc["words"]["nav.next"] == "次へ" and sc["texts"]  # texts inline for the panel
    assert export_html(lab, tmp_path / "again.html", lang="ja").read_bytes() == path.read_bytes()


def test_cli_html_with_a_ping(tmp_path, capsys):
    ap = argparse.ArgumentParser(prog="simlab")
    sub = ap.add_subparsers(dest="command")
    add_export_parser(sub)
    out = tmp_path / "v.html"
    args = ap.parse_args(["export", "veth-basics", "--html", str(out), "--ping", "red:10.0.0.2"])
    assert args.func(args) == 0
    sc = _scene_in(out.read_text(encoding="utf-8"))
    assert "packet" in sc["steps"][-1] and sc["steps"][-1]["packet"]["frames"]
    assert "html:" in capsys.readouterr().out
    args = ap.parse_args(["export", "veth-basics", "--html", str(out), "--ping", "nope:10.0.0.2"])
    with pytest.raises(SystemExit, match="--ping nope:10.0.0.2"):
        args.func(args)
    args = ap.parse_args(["export", "veth-basics", "--html", str(out), "--ping", "10.0.0.2"])
    with pytest.raises(SystemExit, match="NS:DST"):
        args.func(args)
