"""Settings: defaults, environment, keywords; bad names and values refused."""

import pytest

from qa.config import Settings, SettingsError, load_settings


def test_defaults_bind_locally_without_sharing():
    s = Settings()
    assert s.host == "127.0.0.1" and s.share is False and s.auth == "" and s.uploads is True


def test_environment_then_keywords():
    s = load_settings({"QA_TOP_K": "7", "QA_UPLOADS": "off", "QA_THRESHOLD": "1.5"}, top_k=3)
    assert s.top_k == 3 and s.uploads is False and s.threshold == 1.5
    assert load_settings({"QA_THRESHOLD": ""}).threshold is None


@pytest.mark.parametrize("env, message", [
    ({"QA_TOPK": "3"}, "unknown environment setting QA_TOPK"),
    ({"QA_TOP_K": "many"}, "top_k: 'many' is not a valid int"),
    ({"QA_TOP_K": "0"}, "top_k must be greater than 0, not 0"),
    ({"QA_CHUNK_TOKENS": "400"}, "at most 256"),
    ({"QA_AUTH": "nopassword"}, "user:password"),
])
def test_bad_settings_name_the_problem(env, message):
    with pytest.raises(SettingsError, match=message):
        load_settings(env)


def test_unknown_keyword_refused():
    with pytest.raises(SettingsError, match="unknown setting"):
        Settings().replace(colour="blue")
