"""Take the README's screenshot of the main window with a labelled video.

Run under a real (virtual) X server so fonts and styles render as on a desktop::

    xvfb-run -a -s "-screen 0 1600x1000x24" python bench/gui_screenshot.py

It opens a copy of the built-in demo project (UCSD Ped2 test video 01 with its ground-truth anomaly
interval and labelled subclips), stops on a frame where the cyclist crosses the walkway, sets an In/Out
span and saves ``docs/screenshots/main-window.png`` (``--out`` to change), then the Help > Keyboard
shortcuts dialog as ``docs/screenshots/shortcuts.png``. Then it scores the video with the demo's shipped
model (Review > Score Video), goes to the cyclist event with the error heat map on the frame and saves
the regularity chart and the Events panel as ``docs/screenshots/review.png``. Last it opens Model > Train
a Model (Ctrl+T), starts the default anomaly preset on the demo's training videos (20 steps an epoch)
and saves the Training dock with its live loss curves and progress as ``docs/screenshots/training.png``
once a few epochs have run, then cancels the run.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots" / "main-window.png")
    parser.add_argument("--frame", type=int, default=112, help="frame of test video 01 to show")
    parser.add_argument("--size", default="1440x860")
    parser.add_argument("--shortcuts-out", type=Path, default=REPO / "docs" / "screenshots" / "shortcuts.png",
                        help="where to save the Help > Keyboard shortcuts dialog")
    parser.add_argument("--review-out", type=Path, default=REPO / "docs" / "screenshots" / "review.png",
                        help="where to save the window after scoring, on an event with its heat map")
    parser.add_argument("--training-out", type=Path, default=REPO / "docs" / "screenshots" / "training.png",
                        help="where to save the window while a model trains")
    args = parser.parse_args()

    from PySide6.QtCore import QSettings

    from desktop_app.library import demo
    from desktop_app.shell.app import create_app
    from desktop_app.shell.main_window import MainWindow

    app = create_app(["framewatch"])
    with tempfile.TemporaryDirectory() as tmp:
        settings = QSettings(str(Path(tmp) / "settings.ini"), QSettings.Format.IniFormat)
        folder = demo.ensure_demo_project(Path(tmp) / "demo")
        window = MainWindow(settings=settings)
        w, h = (int(v) for v in args.size.split("x"))
        window.resize(w, h)
        window.show()
        window.library.open_project_path(folder)

        def wait(condition, seconds: float = 20.0) -> None:
            end = time.monotonic() + seconds
            while not condition() and time.monotonic() < end:
                app.processEvents()
                time.sleep(0.01)

        test01 = next(v.id for v in window.state.project.videos.values() if v.name == "ped2_test01")
        window.video_list.select_video(test01)
        wait(lambda: window.player.shown_index == 0)
        wait(lambda: all(window.video_list.has_thumbnail(v) for v in window.video_list.video_ids()))
        window.player.seek(args.frame - 22)
        wait(lambda: window.player.shown_index == args.frame - 22)
        window.labelling.set_in()
        window.player.seek(args.frame)
        wait(lambda: window.player.shown_index == args.frame)
        window.labelling.set_out()
        window.label_panel.set_current_class("cyclist")
        clip = next(s for s in window.state.project.subclips_of(test01) if s.label == "cyclist")
        window.state.set_selection(("subclip", clip.id))
        window.statusBar().showMessage("Labelled: walking 0-49, cyclist 75-134; anomaly 60-179 (UCSDped2.m)")
        for _ in range(20):
            app.processEvents()
            time.sleep(0.02)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        ok = window.grab().save(str(args.out))
        from desktop_app.shell.shortcuts_dialog import ShortcutsDialog

        dialog = ShortcutsDialog(window.labelling.class_shortcut_rows(), window)
        dialog.resize(620, 980)
        dialog.show()
        for _ in range(10):
            app.processEvents()
            time.sleep(0.02)
        ok = dialog.grab().save(str(args.shortcuts_out)) and ok
        dialog.close()

        window.state.set_selection(None)
        window.labelling.clear_in_out()
        review = window.review
        started = time.monotonic()
        review.score_video()
        wait(lambda: review.job is not None)
        wait(lambda: not review.scoring, seconds=300)
        print(f"scored {window.state.video.name} in {time.monotonic() - started:.1f} s: "
              f"{len(review.review.events)} events", flush=True)
        cyclist = max(range(len(review.review.events)), key=lambda i: review.review.events[i].peak_score)
        review.review.select_event(cyclist)
        event = review.review.current_event
        wait(lambda: window.player.shown_index == event.start)
        window.state.request_seek(event.peak_frame)
        wait(lambda: window.player.shown_index == event.peak_frame)
        review.review.heatmap.setChecked(True)
        wait(lambda: not review.review.overlay_busy and review.review.overlay(event.peak_frame) is not None, 60)
        for _ in range(30):
            app.processEvents()
            time.sleep(0.02)
        ok = window.grab().save(str(args.review_out)) and ok

        review.review.heatmap.setChecked(False)
        training = window.training
        training.show_panel()
        form = training.panel.form
        form.epochs.setValue(50)
        form.steps.setValue(20)
        form.run_name.setText("screenshot-run")
        training.panel.start()
        # a few epochs, however busy the machine: the loss curve, the validation points and the progress line fill
        wait(lambda: len(training.panel.curves.val_x) >= 3, seconds=600)
        ok = window.grab().save(str(args.training_out)) and ok
        training.cancel()
        wait(lambda: not training.is_training, seconds=60)
        # the demo copy gained a run: leave without the "save changes?" question, which would wait for a click
        from PySide6.QtWidgets import QMessageBox

        window.state.ask = lambda *_args: QMessageBox.StandardButton.Discard
        window.close()
    print(f"saved {args.out}, {args.shortcuts_out}, {args.review_out} and {args.training_out}" if ok
          else "could not save the screenshots")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
