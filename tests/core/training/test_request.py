"""The training request: one check of every setting, one line each, before anything starts."""

from __future__ import annotations

import subprocess
import sys

import pytest

from core.training.errors import ConfigError
from core.training.request import ResumeRequest, TrainingRequest

NAN, INF = float("nan"), float("inf")


@pytest.mark.parametrize(("field", "value", "message"), [
    ("task", "dance", "task must be one of predict, anomaly, classify, regress, not 'dance'"),
    ("preset", "nope", "no preset 'nope' for task 'anomaly'; presets: stae, conv-ae, future-frame, motion"),
    ("learning_rate", NAN, "learning rate must be a positive number, not nan"),
    ("learning_rate", INF, "learning rate must be a positive number, not inf"),
    ("learning_rate", 0.0, "learning rate must be a positive number, not 0.0"),
    ("learning_rate", -1e-3, "learning rate must be a positive number, not -0.001"),
    ("filters", (0, 2), "filters must be whole numbers >= 1, not 0,2"),
    ("filters", (), "filters must be whole numbers >= 1, not none"),
    ("height", 4, "frame height must be a whole number from 8 to 4096, not 4"),
    ("width", 100_000, "frame width must be a whole number from 8 to 4096, not 100000"),
    ("frames", 1, "frames per clip must be a whole number from 2 to 1000, not 1"),
    ("stride", 0, "clip stride must be a whole number from 1 to 100000, not 0"),
    ("frame_steps", (1, 0), "each frame step must be a whole number from 1 to 1000, not 0"),
    ("val_fraction", 1.0, "validation fraction must be in [0, 1), not 1.0"),
    ("val_fraction", NAN, "validation fraction must be in [0, 1), not nan"),
    ("epochs", 0, "epochs must be a whole number from 1 to 1000000, not 0"),
    ("epochs", 2.5, "epochs must be a whole number from 1 to 1000000, not 2.5"),
    ("batch_size", 0, "batch size must be a whole number from 1 to 1000000, not 0"),
    ("steps_per_epoch", 0, "steps per epoch must be a whole number from 1 to 1000000, not 0"),
    ("patience", -1, "early-stop patience must be a whole number from 0 to 1000000, not -1"),
    ("lr_patience", -1, "reduce-LR patience must be a whole number from 0 to 1000000, not -1"),
    ("lr_factor", 2.0, "learning-rate factor must be in (0, 1), not 2.0"),
    ("max_minutes", 0.0, "time budget must be a positive number of minutes, not 0.0"),
    ("max_minutes", INF, "time budget must be a positive number of minutes, not inf"),
    ("seed", -1, "seed must be a whole number from 0 to 4294967295, not -1"),
    ("device", "tpu", "device must be auto, cpu, gpu or gpu:N, not 'tpu'"),
    ("cpu_threads", 0, "CPU threads must be a whole number from 1 to 4096, not 0"),
    ("reserve_cores", -1, "reserved cores must be a whole number from 0 to 4096, not -1"),
])
def test_each_bad_setting_is_one_line_naming_it_and_its_range(field: str, value, message: str) -> None:
    given = {"task": "anomaly", field: value}
    with pytest.raises(ConfigError) as caught:
        TrainingRequest(**given)
    assert str(caught.value) == message


@pytest.mark.parametrize(("field", "value", "message"), [
    ("learning_rate", NAN, "learning rate must be a positive number, not nan"),
    ("epochs", 0, "epochs must be a whole number from 1 to 1000000, not 0"),
    ("max_minutes", -1.0, "time budget must be a positive number of minutes, not -1.0"),
    ("device", "gpu:x", "device must be auto, cpu, gpu or gpu:N, not 'gpu:x'"),
    ("cpu_threads", 0, "CPU threads must be a whole number from 1 to 4096, not 0"),
])
def test_a_resume_is_checked_by_the_same_rules_in_the_same_words(field: str, value, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        ResumeRequest("run", **{field: value})
    assert str(caught.value) == message


def test_a_request_becomes_the_spec_data_options_and_config_it_asks_for() -> None:
    request = TrainingRequest("anomaly", "conv-ae", learning_rate=5e-4, filters=(4, 4, 4), height=32, frames=8,
                              frame_steps=(1, 2), val_fraction=0.25, epochs=3, batch_size=2, steps_per_epoch=7,
                              patience=0, max_minutes=1.5, max_steps=40, seed=4, device="cpu", reserve_cores=1)
    spec = request.spec()
    assert (spec.preset, spec.learning_rate, spec.recurrent) == ("conv-ae", 5e-4, (4, 4, 4))
    options = request.data_options()
    assert (options.height, options.width, options.frames, options.frame_steps, options.val_fraction) == (
        32, None, 8, (1, 2), 0.25)
    config = request.config()
    assert (config.epochs, config.batch_size, config.steps_per_epoch, config.patience, config.max_minutes,
            config.max_steps, config.seed, config.device, config.reserve_cores) == (3, 2, 7, 0, 1.5, 40, 4, "cpu", 1)
    # left to the preset: its default preset and its own learning rate
    default = TrainingRequest("anomaly")
    assert default.preset_name == "future-frame" and "learning_rate" not in default.model_options()


def test_frame_differences_reach_an_lrcn_spec_and_another_family_is_refused_in_one_line() -> None:
    from core.cli.main import build_parser
    from core.cli.train_commands import training_request

    args = build_parser().parse_args(["train", "p", "--task", "classify", "--differences"])
    request = training_request(args)
    assert request.frame_differences is True and request.spec().frame_differences is True
    plain = training_request(build_parser().parse_args(["train", "p", "--task", "classify"]))
    assert plain.frame_differences is None and plain.spec().frame_differences is False
    with pytest.raises(ConfigError, match="has no option frame_differences"):
        TrainingRequest("classify", "conv3d", frame_differences=True)


def test_the_input_signal_is_the_presets_unless_given_and_only_window_tasks_take_speed() -> None:
    from core.cli.main import build_parser
    from core.cli.train_commands import training_request

    def request(*argv: str) -> TrainingRequest:
        return training_request(build_parser().parse_args(["train", "p", *argv]))

    assert request("--task", "classify").data_options().signal == "frames"
    speed = request("--task", "regress", "--preset", "speed")
    assert speed.input_signal() == "speed" and speed.data_options().signal == "speed"
    assert (speed.spec().cnn_filters, speed.spec().lstm_units, speed.spec().pooling) == ((8,), (16,), "max")
    assert request("--task", "classify", "--preset", "speed", "--input", "frames").data_options().signal == "frames"
    assert request("--task", "classify", "--input", "speed").data_options().signal == "speed"
    with pytest.raises(ConfigError, match="an input of speed maps is for classify and regress runs"):
        TrainingRequest("predict", signal="speed")
    with pytest.raises(ConfigError, match="speed maps are one channel"):
        TrainingRequest("classify", signal="speed", grayscale=False)
    with pytest.raises(ConfigError, match="input must be one of frames, speed"):
        TrainingRequest("classify", signal="depth")


def test_a_request_is_checked_without_importing_keras() -> None:
    code = ("import sys\nfrom core.training.request import TrainingRequest\nTrainingRequest('anomaly', epochs=3)\n"
            "print(sorted(m for m in ('keras', 'tensorflow') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_set_reads_any_spec_field_by_its_type_and_refuses_in_one_line() -> None:
    from core.cli.main import build_parser
    from core.cli.train_commands import training_request

    def request(*sets: str):
        argv = ["train", "p", "--task", "predict", "--preset", "simvp"]
        for text in sets:
            argv += ["--set", text]
        return training_request(build_parser().parse_args(argv))

    spec = request("translator_blocks=8", "space_to_depth=2", "lr_schedule=constant").spec()
    assert (spec.translator_blocks, spec.space_to_depth, spec.lr_schedule) == (8, 2, "constant")
    assert request().spec().translator_blocks == 6  # the preset's
    assert request("recurrent=32,16").spec().recurrent == (32, 16)
    lrcn = training_request(build_parser().parse_args(["train", "p", "--task", "classify", "--set",
                                                       "frame_differences=yes", "--set", "weights=/w.h5"]))
    assert lrcn.spec().frame_differences is True and lrcn.spec().weights == "/w.h5"
    for text, message in [
        ("translator_blocks", "--set 'translator_blocks': expected FIELD=VALUE, e.g. translator_blocks=8"),
        ("blocks=3", "--set blocks: the simvp preset has no option blocks; options: "),
        ("translator_blocks=many", "--set translator_blocks=many: expected a whole number like 6"),
        ("translator_blocks=0", "translator_blocks must be a whole number from 1 to 4096, not 0"),
        ("space_to_depth=3", "space_to_depth must be 1 (off) or 2, not 3"),
        ("recurrent=64,x", "--set recurrent=64,x: expected a comma list like 64,64"),
        ("height=32", "--set height: set it with --size"),
        ("learning_rate=1e-3", "--set learning_rate: set it with --lr"),
    ]:
        with pytest.raises(ConfigError) as raised:
            request(text)
        assert str(raised.value).startswith(message) and "\n" not in str(raised.value), text


def test_set_is_a_usage_error_with_resume(capsys) -> None:
    from core.cli.main import main

    with pytest.raises(SystemExit) as raised:
        main(["train", "--resume", "r", "--runs-dir", "x", "--set", "translator_blocks=8"])
    assert raised.value.code == 2
    assert "--set changes a new run's model: a resumed run keeps its own" in capsys.readouterr().err
