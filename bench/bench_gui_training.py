"""Desktop app: GUI stall while the main window trains a small real model and plays a video (target p99 <= 50 ms).

The main window (offscreen, real widgets) opens a generated project of two 160x120 clips (300 and 310
frames, 25 fps); Model > Train a Model shows the Training dock, and its Start button trains the
``conv-ae`` anomaly autoencoder (filters 8,8,8, 32x32 gray frames, 8-frame clips) for about 25 s
(``--seconds``; ``--quick`` 12 s) while the player plays the first clip, from its start again whenever
it reaches the end; then Model > Cancel Training. A 10 ms QTimer probe (:mod:`bench.stall_probe`)
measures how late the GUI thread is while the run trains (from its first batch to the cancel), with
the loss curve, the progress line and the player's frames all updating. The training leaves one core
to the GUI (TensorFlow's thread pools get all cores but one; the training thread runs at a lower
priority). Figures: p99 and max stall, frames shown per second against the clip's rate, batches
trained, clips per second.

Run: ``python -m bench gui_training [--quick] [--seconds S]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_gui import choose_platform, make_clip  # noqa: E402
from bench.figures import Figure  # noqa: E402
from bench.stall_probe import StallProbe  # noqa: E402

FPS = 25.0



def set_small_run(form) -> None:
    """Fill the Training form with the run this benchmark trains (tested against the real form)."""
    form.task.setCurrentText("anomaly")
    form.preset.setCurrentIndex(form.preset.findData("conv-ae"))
    form.filters.setText("8,8,8")
    form.frame_height.setValue(32)  # square: the width follows
    form.frames.setValue(8)
    form.grayscale.setCurrentText("gray")
    form.epochs.setValue(10000)
    form.steps.setValue(20)
    form.batch_size.setValue(8)

def run(seconds: float) -> dict[str, float]:
    from PySide6.QtCore import QSettings, Qt
    from PySide6.QtTest import QTest

    from core.project import Project
    from core.training import events as ev
    from desktop_app.shell.app import create_app
    from desktop_app.shell.main_window import MainWindow

    app = create_app(["bench"])
    with tempfile.TemporaryDirectory() as tmp:
        project = Project.create(Path(tmp) / "project", name="bench")
        for k in range(2):
            project.add_video(make_clip(Path(tmp) / f"walk{k}.mp4", 12 + 0.4 * k, FPS, size=(160, 120)))
        project.save()
        folder = project.folder
        project.close()
        window = MainWindow(settings=QSettings(str(Path(tmp) / "s.ini"), QSettings.Format.IniFormat))
        window.state.ask = lambda *a, **k: None
        window.resize(1280, 800)
        window.show()
        if not window.library.open_project_path(folder):
            raise RuntimeError(f"cannot open {folder}")
        player = window.player
        while player.shown_index != 0:  # the first video is shown
            app.processEvents()
            time.sleep(0.002)
        window.actions_by_key["train_model"].trigger()
        panel = window.training.panel
        form = panel.form
        set_small_run(form)
        batches: list[ev.BatchEnded] = []
        panel.event_received.connect(lambda e: batches.append(e) if isinstance(e, ev.BatchEnded) else None)
        probe = StallProbe()
        QTest.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
        while not batches and panel.is_training:  # data preparation and graph tracing are not measured
            app.processEvents()
            time.sleep(0.0005)
        if not panel.is_training:
            raise RuntimeError(f"training ended before its first batch: {panel.status.text()}")
        shown = 0  # frames painted while playing (the player counts from each Play)
        probe.start()
        started = time.perf_counter()
        player.play()
        while time.perf_counter() - started < seconds:
            if not player.playing:  # the end of the clip: from the start again
                shown += player.frames_shown
                player.seek(0)
                player.play()
            app.processEvents()
            time.sleep(0.0005)
        probe.stop()
        player.pause()
        shown += player.frames_shown
        trained = len(batches)
        rate = batches[-1].samples_per_s
        window.actions_by_key["cancel_training"].trigger()
        while panel.is_training:
            app.processEvents()
            time.sleep(0.001)
        status, threads = panel.last_status, form.threads.value()
        window.close()
    return {**probe.figures(), "seconds": seconds, "batches": trained, "clips_per_s": rate, "status": status,
            "threads": threads, "shown_fps": shown / seconds}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench gui_training", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, help="seconds of training measured (default 25; quick 12)")
    return parser


def figures(argv: list[str], quick: bool) -> list[Figure]:
    """p99 probe stall while training and playing (target <= 50 ms), its maximum, the frames shown and the
    training rate meanwhile."""
    args = _parser().parse_args(argv)
    seconds = args.seconds or (12.0 if quick else 25.0)
    qpa = choose_platform()
    r = run(seconds)
    print(f"platform       {qpa}, main window, {os.cpu_count()} cores, {r['threads']} training threads")
    print(f"playing        160x120 clip at {FPS:g} fps: {r['shown_fps']:.2f} frames shown per second "
          f"(ratio {r['shown_fps'] / FPS:.3f})")
    print(f"trained        {r['batches']} batches in {seconds:g} s ({r['clips_per_s']:.1f} clips/s), then "
          f"{r['status']}")
    print(f"probe stalls   p50 {r['stall_p50_ms']:.1f} ms, p99 {r['stall_p99_ms']:.1f} ms (<= 50), "
          f"max {r['stall_max_ms']:.1f} ms over {r['probe_ticks']} ticks", flush=True)
    setting = f"conv-ae 8,8,8 at 32x32x8, batch 8, {seconds:g} s, {qpa}"
    return [
        Figure("10 ms probe stall while training, p99", r["stall_p99_ms"], "ms", "<= 50",
               note=f"p50 {r['stall_p50_ms']:.1f} ms over {r['probe_ticks']} ticks; {setting}"),
        Figure("10 ms probe stall while training, max", r["stall_max_ms"], "ms"),
        Figure("frames shown per second while training / clip rate", r["shown_fps"] / FPS, "",
               note=f"{r['shown_fps']:.2f} of {FPS:g} fps, a 160x120 clip played in a loop"),
        Figure("training rate meanwhile", r["clips_per_s"], "clips/s",
               note=f"{r['batches']} batches; {r['threads']} of {os.cpu_count()} cores for training"),
    ]


if __name__ == "__main__":
    from bench.runner import run_script

    sys.exit(run_script("gui_training", figures))
