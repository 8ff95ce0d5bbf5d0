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
