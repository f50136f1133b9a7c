"""Short spoken alerts for hook events, in the listener's language.

``alert(key, lang, agent=…, project=…)`` returns ``(text, lang_of_text)``: the phrase in
``lang`` when this table has it (English and Japanese), else the English phrase, which
the daemon then translates like any other text. Phrases never quote the agent's own
message or an error body: one short sentence naming the agent and the project.
"""

from __future__ import annotations

AGENT_NAMES = {"claude": "Claude", "codex": "Codex", "gemini": "Gemini"}

_PHRASES: dict[str, dict[str, str]] = {
    "en": {
        "permission_prompt": "{agent} needs your permission in {project}.",
        "idle_prompt": "{agent} is waiting for you in {project}.",
        "elicitation_dialog": "{agent} has a question for you in {project}.",
        "attention": "{agent} needs your attention in {project}.",
        "failed": "{agent}'s turn failed in {project}: {reason}.",
        "failed_plain": "{agent}'s turn failed in {project}.",
    },
    "ja": {
        "permission_prompt": "{project}で{agent}が許可を求めています。",
        "idle_prompt": "{project}で{agent}が入力を待っています。",
        "elicitation_dialog": "{project}で{agent}から質問があります。",
        "attention": "{project}で{agent}が呼んでいます。",
        "failed": "{project}で{agent}の応答が失敗しました。{reason}。",
        "failed_plain": "{project}で{agent}の応答が失敗しました。",
    },
}

_REASONS: dict[str, dict[str, str]] = {
    "en": {
        "rate_limit": "rate limit", "authentication_failed": "not signed in",
        "oauth_org_not_allowed": "organisation not allowed", "billing_error": "billing",
        "invalid_request": "invalid request", "model_not_found": "model not found",
        "server_error": "server error", "max_output_tokens": "the reply was too long",
    },
    "ja": {
        "rate_limit": "レート制限です", "authentication_failed": "認証エラーです",
        "oauth_org_not_allowed": "組織が許可されていません", "billing_error": "請求の問題です",
        "invalid_request": "無効なリクエストです", "model_not_found": "モデルが見つかりません",
        "server_error": "サーバーエラーです", "max_output_tokens": "応答が長すぎました",
    },
}

NOTIFICATION_KEYS = {"permission_prompt", "idle_prompt", "elicitation_dialog"}
"""Notification types that get their own phrase; ``auth_success`` and the elicitation
follow-ups are not spoken; any other type gets the generic "needs your attention"."""
SILENT_NOTIFICATIONS = {"auth_success", "elicitation_complete", "elicitation_response"}


def agent_name(agent: str) -> str:
    """The agent's spoken name ("Claude", "Codex", "Gemini"; others as given)."""
    return AGENT_NAMES.get(agent, agent.capitalize() or "The agent")


def alert(key: str, lang: str, *, agent: str, project: str,
          reason: str | None = None) -> tuple[str, str]:
    """The phrase for ``key`` and the language it is in (``lang`` when known, else en)."""
    table = _PHRASES.get(lang)
    text_lang = lang if table is not None else "en"
    table = table or _PHRASES["en"]
    if key == "failed":
        why = _REASONS[text_lang].get(reason or "")
        if why is None:
            key = "failed_plain"
        return table[key].format(agent=agent_name(agent), project=project or "?",
                                 reason=why), text_lang
    return table[key].format(agent=agent_name(agent), project=project or "?"), text_lang


__all__ = ["NOTIFICATION_KEYS", "SILENT_NOTIFICATIONS", "agent_name", "alert"]
