from tests.platform import Platform


def test_owner_key_reads_its_tenant(platform: Platform) -> None:
    a = platform.tenant("starter")
    response = platform.client.get("/tenant/me", headers=a.headers)
    assert response.status_code == 200, response.text
    assert response.json()["plan_id"] == "starter"
