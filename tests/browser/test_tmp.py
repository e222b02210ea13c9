import pytest
@pytest.mark.browser
@pytest.mark.parametrize("n", [1, 2])
def test_x(page, cast, live_server, n):
    page.goto(live_server.url + "/")
    assert "connexion" in page.url
