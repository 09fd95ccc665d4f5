"""The two-step confirmation token store (pure logic, with a fake clock)."""

from __future__ import annotations

import pytest

from mcp_docker.safety import confirm_tokens
from mcp_docker.safety.confirm_tokens import ConfirmTokens, TokenRefused, digest


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def refused(store: ConfirmTokens, token: str, tool: str, host: str | None, arguments: dict[str, object]) -> str:
    with pytest.raises(TokenRefused) as exc:
        store.redeem(token, tool, host, arguments)
    return exc.value.reason


def test_a_token_confirms_once_exactly_the_call_it_was_issued_for() -> None:
    store = ConfirmTokens(300)
    args = {"container": "web", "force": True, "filters": {"label": ["a=b"]}}
    token = store.issue("docker_remove_container", None, args, "Remove web?")
    assert len(token) >= 24
    issued = store.redeem(token, "docker_remove_container", None, dict(reversed(list(args.items()))))
    assert issued.question == "Remove web?" and issued.digest == digest(token)
    assert refused(store, token, "docker_remove_container", None, args) == "used"


@pytest.mark.parametrize(
    ("tool", "host", "arguments"),
    [
        ("docker_remove_volume", "local", {"container": "web", "force": True}),
        ("docker_remove_container", "prod", {"container": "web", "force": True}),
        ("docker_remove_container", "local", {"container": "db", "force": True}),
        ("docker_remove_container", "local", {"container": "web", "force": False}),
        ("docker_remove_container", "local", {"container": "web", "force": True, "volumes": True}),
    ],
)
def test_any_other_tool_engine_or_argument_is_refused_and_burns_the_token(
    tool: str, host: str, arguments: dict[str, object]
) -> None:
    store = ConfirmTokens(300)
    token = store.issue("docker_remove_container", "local", {"container": "web", "force": True}, "Remove web?")
    assert refused(store, token, tool, host, arguments) == "mismatch"
    assert refused(store, token, "docker_remove_container", "local", {"container": "web", "force": True}) == "used"


def test_tokens_expire_and_unknown_ones_are_refused() -> None:
    clock = Clock()
    store = ConfirmTokens(10, clock)
    token = store.issue("t", None, {}, "q")
    clock.now += 10.5
    assert refused(store, token, "t", None, {}) == "expired"
    assert refused(store, "made-up-token", "t", None, {}) == "unknown"
    late = store.issue("t", None, {}, "q")
    clock.now += 4000  # long past expiry: forgotten
    assert refused(store, late, "t", None, {}) == "unknown"


def test_the_store_keeps_digests_only_and_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(confirm_tokens, "MAX_TOKENS", 5)
    store = ConfirmTokens(300)
    tokens = [store.issue("t", None, {"n": i}, "q") for i in range(7)]
    assert len(store._entries) == 5
    assert not any(t in repr(store._entries) for t in tokens)
    assert refused(store, tokens[0], "t", None, {"n": 0}) == "unknown"  # the oldest went first
    store.redeem(tokens[6], "t", None, {"n": 6})
    assert len({store.issue("t", None, {}, "q") for _ in range(50)}) == 50


def test_log_lines_lose_tokens_in_every_spelling() -> None:
    from mcp_docker.utils.logger import scrub

    for text in (
        'failed: confirm_token="abc-_1" Ask',
        "{'confirm_token': 'abc'}",
        '{"confirm_token": "abc"}',
        'confirm_token=\\"abc\\"',
    ):
        assert "abc" not in scrub(text) and "<not logged>" in scrub(text)


def test_cli_flags_set_the_confirmation_settings() -> None:
    from mcp_docker.__main__ import _parser, load_settings

    args = vars(_parser().parse_args(["--confirm-timeout", "5", "--confirm-fallback", "refuse", "--confirm-ttl", "9"]))
    args.pop("command", None)
    settings = load_settings(args)
    assert (settings.confirm_timeout, settings.confirm_fallback, settings.confirm_ttl) == (5, "refuse", 9)


def test_a_card_token_comes_back_only_from_the_card_and_a_model_token_only_as_confirm_token() -> None:
    store = ConfirmTokens(300)
    args = {"container": "web"}
    card = store.issue("docker_remove_container", None, args, "Remove web?", via="card")
    model = store.issue("docker_remove_container", None, args, "Remove web?")
    assert len(card) >= 40  # no model copies it
    assert refused(store, card, "docker_remove_container", None, args) == "mismatch"  # as confirm_token: spent
    assert store.peek(card) is None
    with pytest.raises(TokenRefused) as exc:
        store.redeem(model, "docker_remove_container", None, args, via="card")
    assert exc.value.reason == "mismatch"


def test_peek_consumes_nothing_and_cancel_burns_only_a_live_card() -> None:
    clock = Clock()
    store = ConfirmTokens(10, clock)
    card = store.issue("docker_remove_volume", "prod", {"volume": "data"}, "Remove data?", via="card")
    model = store.issue("docker_remove_volume", "prod", {"volume": "data"}, "Remove data?")
    issued = store.peek(card)
    assert issued is not None and issued.tool == "docker_remove_volume" and issued.host == "prod"
    assert store.peek(card) == issued and store.peek("made-up") is None
    assert store.cancel(model, "card") is False and store.peek(model) is not None
    assert store.cancel(card, "card") is True and store.cancel(card, "card") is False
    with pytest.raises(TokenRefused) as exc:
        store.redeem(card, "docker_remove_volume", "prod", {"volume": "data"}, via="card")
    assert exc.value.reason == "used"
    late = store.issue("docker_remove_volume", "prod", {"volume": "data"}, "Remove data?", via="card")
    clock.now += 11
    assert store.peek(late) is None and store.cancel(late, "card") is False
