"""Who can reach the page: loopback by default, no public link, optional login, uploads off."""

import pytest

from tests.conftest import free_port


@pytest.fixture
def make_server(make_bot):
    demos = []

    def start(**changes):
        from qa.app import serve

        bot = make_bot(seeds=True, port=free_port(), **changes)
        demo = serve(bot, block=False)
        demos.append(demo)
        return demo, f"http://127.0.0.1:{bot.settings.port}/"

    yield start
    for demo in demos:
        demo.close()


def test_defaults_listen_on_loopback_only_without_share(make_server):
    demo, url = make_server()
    assert demo.server_name == "127.0.0.1"
    assert not demo.share and demo.share_url is None
    from gradio_client import Client

    client = Client(url, verbose=False)
    result = client.predict("Hello", [], api_name="/ask")
    assert "exact words" in str(result)


def test_login_required_when_auth_is_set(make_server):
    import httpx

    demo, url = make_server(auth="alice:s3cret")
    assert httpx.get(url + "config").status_code in (401, 403)
    from gradio_client import Client
    from gradio_client.exceptions import AuthenticationError

    with pytest.raises(AuthenticationError, match="credentials were not provided"):
        Client(url, verbose=False).predict("Hello", [], api_name="/ask")
    with pytest.raises(ValueError, match="Could not login"):
        Client(url, auth=("alice", "wrong"), verbose=False)
    client = Client(url, auth=("alice", "s3cret"), verbose=False)
    assert "exact words" in str(client.predict("Hello", [], api_name="/ask"))


def test_uploads_can_be_switched_off(make_server):
    import httpx

    demo, url = make_server(uploads=False)
    config = httpx.get(url + "config").json()
    kinds = {c.get("type") for c in config["components"]}
    assert "chatbot" in kinds and "file" not in kinds and "uploadbutton" not in kinds


def test_the_cited_document_view_marks_the_answer_and_runs_no_script(make_server):
    import httpx

    demo, url = make_server()
    page = httpx.get(url.rstrip("/") + _LINK["path"])
    assert page.status_code == 200
    assert '<mark id="answer">patience</mark>' in page.text
    assert "script-src" not in page.headers["content-security-policy"] and "default-src 'none'" in page.headers["content-security-policy"]
    assert httpx.get(url + "document/nope?start=0&end=1").status_code == 404


def test_the_cited_document_view_needs_the_login(make_server):
    import httpx

    demo, url = make_server(auth="alice:s3cret")
    path = _LINK["path"]
    assert httpx.get(url.rstrip("/") + path).status_code == 401
    with httpx.Client() as browser:
        assert browser.post(url + "login", data={"username": "alice", "password": "wrong"}).status_code in (400, 401)
        assert browser.get(url.rstrip("/") + path).status_code == 401
        assert browser.post(url + "login", data={"username": "alice", "password": "s3cret"}).status_code == 200
        shown = browser.get(url.rstrip("/") + path)
        assert shown.status_code == 200 and '<mark id="answer">patience</mark>' in shown.text


_LINK: dict = {}


@pytest.fixture(autouse=True)
def _seed_link(make_bot, tmp_path_factory):
    """The view's address of "patience" in the seed article (the same content id in every index)."""
    if not _LINK:
        from qa.ingest import load_file
        from qa.render import document_link
        from tests.conftest import SEED

        doc = load_file(SEED)
        start = doc.text.index("patience")
        _LINK["path"] = document_link(doc.id, start, start + len("patience")).split("#")[0]


def test_a_password_may_hold_a_colon_and_only_the_whole_password_signs_in(make_server):
    import httpx

    demo, url = make_server(auth="alice:pa:ss")
    with httpx.Client() as browser:
        for user, password in (("alice", "pa"), ("alice:pa", "ss"), ("bob", "pa:ss")):
            assert browser.post(url + "login", data={"username": user, "password": password}).status_code in (400, 401)
        assert browser.post(url + "login", data={"username": "alice", "password": "pa:ss"}).status_code == 200
