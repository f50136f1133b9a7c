"""Idle-time preparation: steps only after a quiet second, one per call, until none left."""

from __future__ import annotations

import time

from yomiage.tts.prepare import IdlePreparer


class _Voice:
    name = "steps"

    def __init__(self, steps: int, fail: bool = False) -> None:
        self.left, self.fail, self.calls = steps, fail, 0

    def prepare_next(self) -> bool:
        self.calls += 1
        if self.fail:
            raise RuntimeError("no kernels today")
        if self.left == 0:
            return False
        self.left -= 1
        return True


def test_steps_run_only_after_the_owner_was_idle_long_enough() -> None:
    voice = _Voice(2)
    prep = IdlePreparer(voice, after_s=0.05)
    assert not prep.idle() and voice.calls == 0  # just created: not idle yet
    time.sleep(0.06)
    assert prep.idle() and voice.left == 1
    prep.busy()
    assert not prep.idle() and voice.calls == 1  # the owner worked: wait again
    time.sleep(0.06)
    assert prep.idle() and not prep.done
    assert not prep.idle() and prep.done  # the voice said nothing is left
    assert not prep.idle() and voice.calls == 3 and prep.steps == 2


def test_voices_without_steps_or_with_failing_ones_are_left_alone() -> None:
    prep = IdlePreparer(object(), after_s=0.0)
    assert prep.done and not prep.idle()
    failing = IdlePreparer(_Voice(3, fail=True), after_s=0.0)
    assert not failing.idle() and failing.done
