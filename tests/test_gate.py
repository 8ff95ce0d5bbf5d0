"""The page's door, without a server: which requests carry a file, the upload gate and its disk
cap, sweeping unclaimed uploads, the login check of the cited-document view, and the limits."""

from __future__ import annotations

import asyncio
import json
import os
import time
from types import SimpleNamespace

import pytest

from qa import app
from tests.test_doors import call


@pytest.fixture
def uploads_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path / "gradio"))
    return tmp_path / "gradio"


def scope(method="POST", path="/gradio_api/upload", content_type=b"multipart/form-data; boundary=x", kind="http"):
    headers = [(b"content-type", content_type)] if content_type is not None else []
    return {"type": kind, "method": method, "path": path, "headers": headers}


@pytest.mark.parametrize("request_scope, carries", [
    (scope(), True),
    (scope(path="/anything"), True),  # any multipart POST
    (scope(content_type=b"Multipart/Form-Data; boundary=x", path="/x"), True),
    (scope(content_type=b"application/json"), True),  # Gradio's upload route, whatever the body
    (scope(content_type=b"application/json", path="/gradio_api/upload/"), True),
    (scope(content_type=b"application/json", path="/gradio_api/process_recording"), True),
    (scope(content_type=None, path="/upload"), True),
    (scope(content_type=b"application/json", path="/gradio_api/queue/join"), False),
    (scope(method="GET"), False),
    (scope(kind="websocket"), False),
])
def test_which_requests_carry_a_file(request_scope, carries):
    assert app._carries_a_file(request_scope) is carries


def test_the_disk_cap_counts_every_unclaimed_upload_and_only_holds_back_files(uploads_dir):
    (uploads_dir / "a").mkdir(parents=True)
    (uploads_dir / "a" / "one.txt").write_bytes(b"x" * 600)
    (uploads_dir / "two.txt").write_bytes(b"x" * 400)  # 1,000 bytes in all, in two folders
    assert call(app.UploadGate(None, uploads=True, cap_bytes=1000)) == ([], 507)
    assert call(app.UploadGate(None, uploads=True, cap_bytes=1001)) == (["/gradio_api/upload"], None)
    assert call(app.UploadGate(None, uploads=True, cap_bytes=0)) == (["/gradio_api/upload"], None)  # no cap
    # A request that carries no file is never held back by the cap.
    assert call(app.UploadGate(None, uploads=True, cap_bytes=10), method="GET", path="/") == (["/"], None)


def test_a_refusal_is_json_with_its_length(uploads_dir):
    sent = []

    async def send(message):
        sent.append(message)

    asyncio.run(app._refuse(send, 403, "No."))
    start, body = sent
    assert start["status"] == 403
    headers = dict(start["headers"])
    assert headers[b"content-type"] == b"application/json"
    assert int(headers[b"content-length"]) == len(body["body"]) and body["body"] == b'{"detail": "No."}'


def test_folder_bytes_counts_every_file_below_and_nothing_for_a_missing_folder(tmp_path):
    (tmp_path / "d" / "e").mkdir(parents=True)
    (tmp_path / "d" / "a").write_bytes(b"12345")
    (tmp_path / "d" / "e" / "b").write_bytes(b"123")
    assert app._folder_bytes(tmp_path / "d") == 8
    assert app._folder_bytes(tmp_path / "missing") == 0


def test_sweeping_deletes_only_old_unclaimed_uploads_and_their_emptied_folders(uploads_dir):
    old_dir, new_dir = uploads_dir / "old", uploads_dir / "new"
    old_dir.mkdir(parents=True)
    new_dir.mkdir()
    old, new = old_dir / "a.txt", new_dir / "b.txt"
    old.write_text("a")
    new.write_text("b")
    now = time.time()
    os.utime(old, (now - 700, now - 700))
    os.utime(new, (now - 100, now - 100))
    link = uploads_dir / "link"
    link.symlink_to(new)
    os.utime(link, (now - 700, now - 700), follow_symlinks=False)
    gone = app.sweep_uploads(older_than=600, now=now)
    assert [p.name for p in gone] == ["a.txt"]
    assert not old.exists() and not old_dir.exists()  # its emptied folder too
    assert new.exists() and new_dir.exists() and link.is_symlink()
    assert app.sweep_uploads(older_than=50, now=now) == [new]  # later, the newer one too
    assert app.sweep_uploads(now=now) == []


def test_sweeping_a_missing_folder_does_nothing(uploads_dir):
    assert app.sweep_uploads(now=time.time()) == []


def test_forgetting_uploads_deletes_only_files_in_the_upload_folder(uploads_dir, tmp_path):
    (uploads_dir / "x").mkdir(parents=True)
    mine = uploads_dir / "x" / "notes.txt"
    mine.write_text("n")
    outside = tmp_path / "keep.txt"
    outside.write_text("k")
    app.forget_uploads([str(mine), str(outside)])
    assert not mine.exists() and not mine.parent.exists()
    assert outside.exists()


@pytest.mark.parametrize("host, loopback", [
    ("127.0.0.1", True), ("::1", True), ("localhost", True), ("127.0.0.2", True),
    ("0.0.0.0", False), ("192.168.1.5", False), ("example.org", False), ("", False),
])
def test_loopback_hosts(host, loopback):
    assert app._is_loopback(host) is loopback


def test_the_upload_cap_is_five_largest_files_without_a_login_and_twenty_with_one():
    assert app._upload_cap(SimpleNamespace(auth="", max_upload_mb=2)) == 5 * 2 * 1024 * 1024
    assert app._upload_cap(SimpleNamespace(auth="a:b", max_upload_mb=3)) == 20 * 3 * 1024 * 1024


@pytest.mark.parametrize("value, number", [("12", 12), (None, 0), ("", 0), ("x", 0), ("-3", -3)])
def test_document_view_offsets_are_read_leniently(value, number):
    assert app._int(value) == number


def request_with(cookies):
    return SimpleNamespace(cookies=cookies)


def test_signed_in_without_a_login_always_and_with_one_only_with_a_known_token():
    assert app._signed_in(SimpleNamespace(auth=None), request_with({}))
    page = SimpleNamespace(auth=("alice", "s3cret"), cookie_id="c1", tokens={"tok": "alice"})
    assert app._signed_in(page, request_with({"access-token-c1": "tok"}))
    assert app._signed_in(page, request_with({"access-token-unsecure-c1": "tok"}))  # plain-HTTP cookie
    assert not app._signed_in(page, request_with({}))
    assert not app._signed_in(page, request_with({"access-token-c1": "forged"}))
    assert not app._signed_in(page, request_with({"access-token-other": "tok"}))  # another page's cookie
    by_dependency = SimpleNamespace(auth=None, auth_dependency=lambda r: "alice", cookie_id="c1", tokens={})
    assert not app._signed_in(by_dependency, request_with({"access-token-c1": "tok"}))


# --- the example questions follow the documents ---------------------------------------------

def document(source, text="Some words of a note here.", title=""):
    from qa.types import Document, content_id

    return Document(content_id(source + text), source, text, title)


def test_examples_are_the_demo_articles_while_it_is_the_only_document():
    assert app.examples_for([document("seed.txt")], {"seed.txt"}) == app.EXAMPLES[:5]


def test_examples_add_a_question_per_user_document_sorted_by_name_at_most_five():
    docs = [document("seed.txt"), document("b.md", title="Budget"), document("A.txt", title="")]
    # Three of the demo's, then the user's documents by name (case aside).
    assert app.examples_for(docs, {"seed.txt"}) == app.EXAMPLES[:3] + ["What is A.txt about?", "What is b.md about?"]
    many = [document(f"n{i}.txt") for i in range(7)]
    assert app.examples_for(many, set()) == [f"What is n{i}.txt about?" for i in range(5)]
    assert app.examples_for(many, set(), most=2) == ["What is n0.txt about?", "What is n1.txt about?"]


def test_a_document_without_a_usable_title_is_offered_as_a_summary():
    untitled = document("scan.txt", text="a b\nc")  # no line of four words: no title
    long_title = document("long.txt", title="x" * 61)
    assert app.examples_for([untitled, long_title], set()) == ["Summarize long.txt", "Summarize scan.txt"]
    assert app.examples_for([document("ok.txt", title="y" * 60)], set()) == ["What is ok.txt about?"]


def test_with_no_documents_one_general_example_is_offered():
    assert app.examples_for([], {"seed.txt"}) == ["What is this about?"]


def test_seed_names_are_the_seed_folders_files(tmp_path):
    (tmp_path / "a.txt").write_text("a")
    (tmp_path / "sub").mkdir()
    assert app.seed_names(str(tmp_path)) == {"a.txt"}
    assert app.seed_names("") == set()


# --- the gate's words, and the edges of the page's helpers -----------------------------------

@pytest.mark.parametrize("gate, status, words", [
    (app.UploadGate(None, uploads=False), 403, "Uploads are switched off on this server."),
    (app.UploadGate(None, uploads=True, cap_bytes=1), 507, "Too many uploads are waiting to be indexed; try again in a few minutes."),
])
def test_the_gate_says_why_in_words(uploads_dir, gate, status, words):
    (uploads_dir / "held").mkdir(parents=True)
    (uploads_dir / "held" / "f.txt").write_bytes(b"xx")
    sent: list = []

    async def send(message):
        sent.append(message)

    asyncio.run(gate(scope(), None, send))
    assert sent[0]["status"] == status and json.loads(sent[1]["body"]) == {"detail": words}


def test_requests_without_a_path_or_with_a_look_alike_route_carry_no_file():
    assert app._carries_a_file({"type": "http", "method": "POST", "headers": []}) is False
    assert app._carries_a_file(scope(content_type=b"application/json", path="/api/uploadX")) is False


def test_two_documents_with_the_demo_get_three_of_its_examples_and_names_sort_as_text():
    assert app.examples_for([document("seed.txt"), document("mine.txt")], {"seed.txt"}) == app.EXAMPLES[:3] + ["What is mine.txt about?"]
    assert app.examples_for([document("a.txt"), document("_x.txt")], set()) == ["What is _x.txt about?", "What is a.txt about?"]


def test_forgetting_goes_on_past_files_outside_and_files_already_gone(uploads_dir, tmp_path):
    (uploads_dir / "y").mkdir(parents=True)
    mine = uploads_dir / "y" / "n.txt"
    mine.write_text("n")
    app.forget_uploads([str(tmp_path / "elsewhere.txt"), str(uploads_dir / "gone" / "g.txt"), str(mine)])
    assert not mine.exists()


def test_sweeping_uses_the_time_given_keeps_a_file_exactly_at_the_limit_and_removes_nested_empty_folders(uploads_dir):
    nested = uploads_dir / "a" / "b"
    nested.mkdir(parents=True)
    f = nested / "f.txt"
    f.write_text("f")
    edge = uploads_dir / "edge.txt"
    edge.write_text("e")
    now = time.time() + 10_000  # the time given, not the clock's
    os.utime(f, (now - 700, now - 700))
    os.utime(edge, (now - 600, now - 600))
    assert app.sweep_uploads(older_than=600, now=now) == [f]
    assert edge.exists() and not (uploads_dir / "a").exists()


def test_a_file_that_cannot_be_deleted_does_not_stop_the_sweep(uploads_dir, monkeypatch):
    uploads_dir.mkdir(parents=True)
    stuck, later = uploads_dir / "a-stuck.txt", uploads_dir / "b-later.txt"
    for f in (stuck, later):
        f.write_text("x")
    now = time.time() + 10_000
    real_unlink = type(stuck).unlink

    def unlink(self, *args, **kwargs):
        if self.name == stuck.name:
            raise PermissionError(f"cannot remove {self}")  # held open on another system, or read-only
        return real_unlink(self, *args, **kwargs)

    monkeypatch.setattr(type(stuck), "unlink", unlink)
    assert app.sweep_uploads(older_than=600, now=now) == [later]  # the files after it are still swept
    assert stuck.exists() and not later.exists()


def test_sweeping_everything_leaves_the_upload_folder_itself(uploads_dir):
    (uploads_dir / "x").mkdir(parents=True)
    (uploads_dir / "x" / "f.txt").write_text("f")
    assert len(app.sweep_uploads(older_than=600, now=time.time() + 10_000)) == 1
    assert uploads_dir.is_dir() and list(uploads_dir.iterdir()) == []  # the page's folder stays, emptied


def test_signed_in_reads_pages_without_some_attributes():
    assert app._signed_in(SimpleNamespace(auth_dependency=None), request_with({}))  # no `auth` at all: no login
    page = SimpleNamespace(auth=("a", "b"), tokens={"tok": "a"})  # no cookie id: the cookie's bare name
    assert app._signed_in(page, request_with({"access-token-": "tok"}))
