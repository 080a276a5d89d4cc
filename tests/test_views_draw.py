"""Drawing: artists per step, highlight colours, deterministic PNGs, Japanese without tofu."""

from __future__ import annotations

import io
import warnings

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402

from simlab.views import frames  # noqa: E402
from simlab.views._samples import bridge_pods, churn, veth_pair  # noqa: E402
from simlab.views.draw import COLORS, Scene, draw, missing_glyphs  # noqa: E402


def _ring_colors(scene) -> set[str]:
    if not len(scene.rings.get_offsets()):
        return set()
    return {to_hex(c) for c in scene.rings.get_edgecolors()}


def test_draw_returns_axes_and_accepts_a_step_as_highlight():
    import matplotlib.pyplot as plt

    lab = veth_pair()
    ax = draw(lab.snapshot(), highlight=lab.timeline[-1])
    assert ax.figure is not None and len(ax.collections) >= 6
    plt.close(ax.figure)
    fig, ax2 = plt.subplots()
    assert draw(lab.snapshot(), ax=ax2, highlight={"ns:red": "changed"}, lang="ja") is ax2
    plt.close(fig)


def test_highlight_colours_follow_the_diff():
    fs = frames(bridge_pods(2))
    scene = Scene.for_frames(fs)
    veth = next(f for f in fs if f.step.title_in() == "pod-2: veth")
    scene.update(veth.after, veth.diff, veth.before)
    assert to_hex(COLORS["added"]) in _ring_colors(scene)
    edge_colors = {to_hex(c) for c in scene.wires.get_colors()}
    assert to_hex(COLORS["added"]) in edge_colors  # the new veth and port wires
    addr = next(f for f in fs if f.step.title_in() == "pod-2: address")
    scene.update(addr.after, addr.diff, addr.before)
    assert _ring_colors(scene) == {to_hex(COLORS["changed"])}
    # no highlight: no rings at all
    scene.update(addr.after)
    assert _ring_colors(scene) == set()


def test_removed_objects_are_red_ghosts():
    fs = frames(churn())
    dele = next(f for f in fs if f.step.title_in() == "pod-1: CNI DEL")
    scene = Scene.for_frames(fs)
    scene.update(dele.after, dele.diff, dele.before)
    faces = [to_hex(c) for c in scene.dots.get_edgecolors()]
    assert faces.count(to_hex(COLORS["removed"])) == 2  # both ends of the deleted pair
    assert to_hex(COLORS["removed"]) in {to_hex(c) for c in scene.wires.get_colors()}
    gone = next(f for f in fs if f.step.title_in() == "pod-1: gone")
    scene.update(gone.after, gone.diff, gone.before)
    assert to_hex(COLORS["removed"]) in {to_hex(c) for c in scene.boxes.get_edgecolors()}


def test_same_step_same_png_bytes():
    fs = frames(veth_pair())
    scene = Scene.for_frames(fs)
    shots = []
    for i in (2, 5, 2, 8, 5):
        scene.update(fs[i].after, fs[i].diff, fs[i].before)
        shots.append(scene.png())
    assert shots[0] == shots[2] and shots[1] == shots[4]
    assert shots[0] != shots[1]
    from PIL import Image

    im = Image.open(io.BytesIO(shots[0]))
    assert im.format == "PNG" and im.size == (1000, 600)


def test_japanese_labels_have_every_glyph():
    lab = veth_pair()
    fs = frames(lab)
    scene = Scene.for_frames(fs, lang="ja", title_space=0.07)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # pyproject's filterwarnings does this for Glyph warnings
        scene.update(fs[-1].after, fs[-1].diff, fs[-1].before, title="ステップ 9/9 名前空間")
        scene.png()
        scene.svg()
    assert missing_glyphs("ノード (root netns) 名前空間 eth0 10.0.0.1/24") == []


def test_a_missing_glyph_is_an_error():
    from simlab.views.draw import _label_path

    assert missing_glyphs("\uD55C") == ["\uD55C"]
    with pytest.warns(UserWarning, match=r"Glyph \d+ .* missing from font"):
        _label_path(("pod \uD55C",), 8.0, (0, -1), 3.0)


def test_dense_picture_at_sixty_pods_labels_every_pod():
    fs = frames(bridge_pods(60, steps_per_pod=1))
    scene = Scene.for_frames(fs)
    f = fs[-1]
    scene.update(f.after, f.diff, f.before)
    assert scene.layout.lod == "dense"
    # one label per pod card, the node, the bridge, and the step's highlighted links
    assert 62 <= len(scene.labels.get_paths()) <= 70
    assert len(scene.boxes.get_paths()) == 61
