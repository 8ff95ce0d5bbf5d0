"""Settings: defaults, environment, keywords; bad names and values refused."""

import dataclasses

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
    with pytest.raises(SettingsError, match="unknown setting") as refused:
        Settings().replace(size=2, colour="blue")
    names = [f.name for f in dataclasses.fields(Settings)]
    assert str(refused.value) == f"unknown setting(s): colour, size; known: {', '.join(names)}"


def test_an_unknown_environment_setting_lists_the_known_ones_as_they_are_written():
    with pytest.raises(SettingsError) as refused:
        load_settings({"QA_TOPK": "3"})
    names = [f.name for f in dataclasses.fields(Settings)]
    assert str(refused.value) == "unknown environment setting QA_TOPK; known: " + ", ".join(f"QA_{n.upper()}" for n in names)


def test_a_login_without_a_password_is_refused_with_the_form_it_needs():
    with pytest.raises(SettingsError) as refused:
        Settings(auth="alice")
    assert str(refused.value) == 'auth must look like "user:password"'


@pytest.mark.parametrize("text, value", [
    ("1", True), ("true", True), ("Yes", True), (" ON ", True),
    ("0", False), ("false", False), ("no", False), ("OFF", False), ("", False),
])
def test_switches_read_the_usual_words(text, value):
    assert load_settings({"QA_SHARE": text}).share is value


def test_a_switch_with_another_word_is_refused():
    with pytest.raises(SettingsError, match="share: 'maybe' is not a valid bool"):
        load_settings({"QA_SHARE": "maybe"})


def test_numbers_are_read_with_spaces_around_and_floats_as_floats():
    s = load_settings({"QA_PORT": " 8080 ", "QA_ALTERNATIVES_WITHIN": "0.5", "QA_THRESHOLD": " -2.5 "})
    assert s.port == 8080 and s.alternatives_within == 0.5 and s.threshold == -2.5
    with pytest.raises(SettingsError, match="alternatives_within: 'half' is not a valid float"):
        load_settings({"QA_ALTERNATIVES_WITHIN": "half"})
    with pytest.raises(SettingsError, match="threshold: 'low' is not a valid float | None"):
        load_settings({"QA_THRESHOLD": "low"})


def test_keywords_win_over_the_environment_and_none_means_not_given():
    s = load_settings({"QA_TOP_K": "7", "QA_PORT": "9000"}, top_k=None, port=9001)
    assert s.top_k == 7 and s.port == 9001
    assert Settings().replace(top_k="4").top_k == 4  # text from a flag is converted too


@pytest.mark.parametrize("changes, message", [
    ({"chunk_tokens": 256, "chunk_overlap": 127}, None),  # the largest allowed
    ({"chunk_tokens": 257}, "chunk_tokens must be at most 256"),
    ({"chunk_overlap": -1}, "chunk_overlap must be at least 0 and under half of chunk_tokens, not -1"),
    ({"chunk_tokens": 100, "chunk_overlap": 50}, "under half of chunk_tokens, not 50"),
    ({"chunk_tokens": 100, "chunk_overlap": 49}, None),
    ({"chunk_tokens": 101, "chunk_overlap": 50}, None),  # 50 is under half of 101
    ({"chunk_tokens": 101, "chunk_overlap": 51}, "under half of chunk_tokens, not 51"),
    ({"chunk_overlap": 0}, None),  # passages without shared sentences
    ({"alternatives_within": 1.0}, None),
    ({"alternatives_within": 0.0}, r"alternatives_within must be in \(0, 1\], not 0.0"),
    ({"alternatives_within": 1.01}, "not 1.01"),
    ({"candidates": 0}, "candidates must be greater than 0"),
    ({"rrf_k": 0}, "rrf_k must be greater than 0"),
    ({"max_question_chars": 0}, "max_question_chars must be greater than 0"),
    ({"max_upload_mb": 0}, "max_upload_mb must be greater than 0"),
    ({"port": 0}, "port must be greater than 0"),
    ({"top_k": 1}, None),
    ({"reader_precision": "fp16"}, "reader_precision must be auto, bf16, fp32, int8, onnx or onnx-int8, not 'fp16'"),
    ({"reader_max_length": 0}, "reader_max_length must be greater than 0"),
    ({"reader_stride": 400}, "reader_stride must be at least 0"),
    ({"auth": "alice:pa:ss"}, None),  # the password may hold a colon
])
def test_each_limit_is_checked_with_its_name(changes, message):
    if message is None:
        Settings(**changes)
    else:
        with pytest.raises(SettingsError, match=message):
            Settings(**changes)


def test_the_reader_settings_follow_the_settings():
    r = Settings(reader_max_length=256, reader_stride=64, reader_precision="fp32").reader_settings()
    assert (r.max_length, r.stride, r.precision) == (256, 64, "fp32")


def test_the_store_is_the_index_folder_unless_named():
    assert Settings(index_dir="idx").store_uri == "idx"
    assert Settings(index_dir="idx", store="milvus://x.db").store_uri == "milvus://x.db"
