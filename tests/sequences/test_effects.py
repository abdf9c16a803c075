"""After-commit effects: a stale task token is expected, not an error (fake workflows)."""

from __future__ import annotations

from chalicelib.core.runtime import AnswerToken, Runtime, StopExecution
from chalicelib.platform.settings import get_settings
from tests.fakes import FakeQueue, FakeWorkflows, MemoryRecords


def test_a_stale_token_is_logged_and_the_rest_goes_on() -> None:
    workflows = FakeWorkflows(stale={"old"})
    rt = Runtime(get_settings(), store=MemoryRecords(), workflows=workflows,
                 actions=FakeQueue(), events=FakeQueue(), jobs=FakeQueue())
    machine = "arn:aws:states:eu-central-1:1:stateMachine:m"
    rt.execute([AnswerToken("old", {"action": "done"}), AnswerToken("fresh", {"action": "done"}),
                StopExecution(machine, "run-1", "booked")])
    assert workflows.answers == [("fresh", {"action": "done"})]
    assert workflows.stopped == [workflows.execution_arn(machine, "run-1")]  # the run named, after the stale token
