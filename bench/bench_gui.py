"""Desktop app: GUI responsiveness and frames shown while the main window plays a 640x480 clip.

A 10 ms QTimer probe records when it actually fires while the main window (project open, labelled
bands on the timeline) plays a generated clip (640x480, 25 fps, 10 s, mp4v, moving content) from
start to end. A stall is how late a probe tick is
(interval minus 10 ms); targets: p99 stall <= 50 ms and frames shown per second >= 0.9x the clip's rate.

Run: ``python -m bench gui [--quick]`` (``python3 bench/bench_gui.py`` prints the same table without
recording it). Options: ``--seconds``, ``--fps``, ``--speed``, ``--player-only``, ``--subclips``;
``--quick`` plays a 4 s clip instead of 10 s. With no display (neither ``DISPLAY`` nor
``WAYLAND_DISPLAY`` set, and no ``QT_QPA_PLATFORM`` chosen) it runs on Qt's offscreen platform: the
window paints into an offscreen raster surface with the same GUI thread, player thread, decoding and
painting, so both figures keep their meaning; only the hand-over to a display server is left out.
For a real X server: ``xvfb-run -a -s "-screen 0 1600x1000x24" env QT_QPA_PLATFORM=xcb python -m bench gui``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.figures import Figure  # noqa: E402
from bench.stall_probe import StallProbe  # noqa: E402


def choose_platform() -> str:
    """The Qt platform to run on: the one chosen, else offscreen when there is no display to show on."""
    if not os.environ.get("QT_QPA_PLATFORM") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    return os.environ.get("QT_QPA_PLATFORM") or "default (display found)"


def make_clip(path: Path, seconds: float, fps: float, size: tuple[int, int] = (640, 480)) -> Path:
    """A clip with texture and a moving square, so frames really differ (mp4v)."""
    w, h = size
    rng = np.random.default_rng(0)
    texture = rng.integers(0, 255, (h, w, 3), dtype=np.uint8)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
    for k in range(int(seconds * fps)):
        frame = np.roll(texture, k * 4, axis=1)
        x = (k * 7) % (w - 80)
        frame[200:280, x:x + 80] = (255, 64, 0)
        cv2.putText(frame, f"{k}", (20, 60), cv2.FONT_HERSHEY_SIMPLEX, 2, (255, 255, 255), 3)
        writer.write(frame)
    writer.release()
    return path


def run(seconds: float, fps: float, speed: float, player_only: bool = False, subclips: int = 6) -> dict[str, float]:
    from PySide6.QtCore import QElapsedTimer, QSettings

    from core.project import Project
    from desktop_app.player.player import PlayerWidget
    from desktop_app.shell.app import create_app
    from desktop_app.shell.main_window import MainWindow

    app = create_app(["bench"])
    with tempfile.TemporaryDirectory() as tmp:
        clip = make_clip(Path(tmp) / "bench_640x480.mp4", seconds, fps)
        frames = int(seconds * fps)
        if player_only:
            window = player = PlayerWidget()
            player.resize(960, 720)
            player.show()
            player.load(clip, frame_count=frames)
        else:  # the whole main window, with labelled bands on the timeline
            project = Project.create(Path(tmp) / "project", name="bench")
            video = project.add_video(clip)
            project.add_class("a", shortcut="1")
            length = max(1, frames // (2 * subclips))
            project.add_subclips(project.make_subclip(video.id, k, k + length, label="a")
                                 for k in range(0, frames - length + 1, 2 * length))
            project.add_interval(video.id, frames // 3, frames // 2)
            project.save()
            window = MainWindow(settings=QSettings(str(Path(tmp) / "s.ini"), QSettings.Format.IniFormat))
            window.state.ask = lambda *a, **k: None
            window.resize(1440, 900)
            window.show()
            window.library.open_project_path(project.folder)
            player = window.player
        clock = QElapsedTimer()
        clock.start()
        while player.shown_index != 0 and clock.elapsed() < 10000:
            app.processEvents()
            time.sleep(0.002)
        player.set_speed(speed)

        probe = StallProbe()
        probe.start()
        started = time.perf_counter()
        player.play()
        while player.playing:
            app.processEvents()
            time.sleep(0.0005)
        elapsed = time.perf_counter() - started
        probe.stop()
        shown = player.frames_shown
        decoded = player.provider.frames_decoded
        player.unload()
        window.close()
    shown_fps = shown / elapsed
    return {
        "clip_fps": fps * speed,
        "play_seconds": elapsed,
        "frames_shown": shown,
        "frames_decoded": decoded,
        "shown_fps": shown_fps,
        "fps_ratio": shown_fps / (fps * speed),
        **probe.figures(),
    }


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench gui", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, help="clip length (default 10 s; quick 4 s)")
    parser.add_argument("--fps", type=float, default=25.0)
    parser.add_argument("--speed", type=float, default=1.0)
    parser.add_argument("--player-only", action="store_true", help="play in the bare player widget, not the main window")
    parser.add_argument("--subclips", type=int, default=6, help="labelled subclips on the timeline (main window)")
    return parser


def figures(argv: list[str], quick: bool) -> list[Figure]:
    """Frames shown per second over the clip's rate (target >= 0.9) and p99 probe stall (target <= 50 ms)."""
    args = _parser().parse_args(argv)
    seconds = args.seconds or (4.0 if quick else 10.0)
    qpa = choose_platform()
    r = run(seconds, args.fps, args.speed, args.player_only, args.subclips)
    where = "player widget" if args.player_only else "main window"
    print(f"platform       {qpa}, {where}")
    print(f"clip           640x480, {args.fps:g} fps, {seconds:g} s, played at {args.speed:g}x"
          + ("" if args.player_only else f", {args.subclips} subclips on the timeline"))
    print(f"played         {r['play_seconds']:.2f} s, {r['frames_shown']} frames shown, "
          f"{r['frames_decoded']} decoded")
    print(f"shown fps      {r['shown_fps']:.2f} (target {r['clip_fps']:.2f}): ratio {r['fps_ratio']:.3f} (>= 0.9)")
    print(f"probe stalls   p50 {r['stall_p50_ms']:.1f} ms, p99 {r['stall_p99_ms']:.1f} ms (<= 50), "
          f"max {r['stall_max_ms']:.1f} ms over {r['probe_ticks']} ticks", flush=True)
    setting = f"{where}, {qpa}, {seconds:g} s at {args.fps * args.speed:g} fps"
    return [
        Figure("frames shown per second / clip rate", r["fps_ratio"], "x", ">= 0.9",
               note=f"{r['shown_fps']:.2f} / {r['clip_fps']:g} fps; {setting}"),
        Figure("10 ms probe stall, p99", r["stall_p99_ms"], "ms", "<= 50",
               note=f"p50 {r['stall_p50_ms']:.1f} ms over {r['probe_ticks']} ticks"),
        Figure("10 ms probe stall, max", r["stall_max_ms"], "ms"),
    ]


if __name__ == "__main__":
    from bench.runner import run_script

    sys.exit(run_script("gui", figures))
