"""Next-frame rollout: :mod:`~core.inference.rollout.rollout` predicts future frames from given ones
(autoregressively, with a compiled step kept on the model); :mod:`~core.inference.rollout.video_rollout`
rolls a run out over a video (``framewatch predict``, the app's Predicted frames view);
:mod:`~core.inference.rollout.evaluation` scores rollouts per future step on held-out sequences."""
