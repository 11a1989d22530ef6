"""The Key Vault layer through the real azure-identity and azure-keyvault clients (fake_vault)."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

import pytest

from tests.server.encryption.fake_vault import (
    CLIENT_ID,
    CLIENT_SECRET,
    TENANT_ID,
    VAULT_URL,
    FakeVault,
    new_secret_value,
)
from tutela.server.crypto import DecryptionError
from tutela.server.encryption.vault import (
    KeyMaterial,
    VaultError,
    cmk_wrapper,
    current_version,
    vault_url,
)
from tutela.server.reports.envelope import (
    DocumentUnreadable,
    context,
    open_document,
    seal_document,
)
from tutela.server.tenants.service import AzureCredentials

CREDENTIALS = AzureCredentials(TENANT_ID, CLIENT_ID, CLIENT_SECRET)
DATA_KEY = bytes(range(32))
BOUND = context("report", "tenant-a", "report-1")


@pytest.fixture
def vault() -> FakeVault:
    return FakeVault()


def secret(name: str = "tenant-key") -> KeyMaterial:
    return KeyMaterial(VAULT_URL, name, "secret")


def key(name: str = "tenant-kek") -> KeyMaterial:
    return KeyMaterial(VAULT_URL, name, "key")


def failure(call: object, *args: object) -> VaultError:
    assert callable(call)
    with pytest.raises(VaultError) as caught:
        call(*args)
    return caught.value


# -- the vault's address ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "normalised"),
    [
        ("https://kv-contoso.vault.azure.net/", "https://kv-contoso.vault.azure.net/"),
        ("https://kv-contoso.vault.azure.net", "https://kv-contoso.vault.azure.net/"),
        ("HTTPS://KV-Contoso.Vault.Azure.NET/", "https://kv-contoso.vault.azure.net/"),
        ("https://kv-cn.vault.azure.cn/", "https://kv-cn.vault.azure.cn/"),
        ("https://kv-gov.vault.usgovcloudapi.net/", "https://kv-gov.vault.usgovcloudapi.net/"),
    ],
)
def test_a_key_vault_url_is_accepted_and_normalised(url: str, normalised: str) -> None:
    assert vault_url(url) == normalised


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://kv-contoso.vault.azure.net/", "must use https"),
        ("https://evil.com/", "must be an Azure Key Vault URL"),
        ("https://kv-contoso.vault.azure.net.evil.com/", "must be an Azure Key Vault URL"),
        ("https://evil.com#.vault.azure.net", "without a path, query or fragment"),
        ("https://evil.com?.vault.azure.net", "without a path, query or fragment"),
        ("https://kv-contoso.vault.azure.net@evil.com/", "user name or password"),
        ("https://evil.com@kv-contoso.vault.azure.net/", "user name or password"),
        ("https://user:pw@kv-contoso.vault.azure.net/", "user name or password"),
        ("https://evil.com\\@kv-contoso.vault.azure.net/", "without spaces or backslashes"),
        ("https://kv-contoso.vault.azure.net:8443/", "must not name a port"),
        ("https://kv-contoso.vault.azure.net:443/", "must not name a port"),
        ("https://kv-contoso.vault.azure.net:/", "must not name a port"),
        ("https://kv-contoso.vault.azure.net/secrets/x", "without a path"),
        ("https://kv-contoso.vault.azure.net/?api-version=1", "without a path, query"),
        ("https://kv-contoso.vault.azure.net/#", "or fragment"),
        ("https://kv-contoso.vault.azure.net?", "without a path, query"),
        # Look-alike hosts: a Cyrillic a, the ideographic full stop, a punycode label.
        ("https://kv-contoso.v\u0430ult.azure.net/", "plain ASCII"),
        ("https://kv-contoso\u3002vault.azure.net/", "plain ASCII"),
        ("https://xn--kv-contoso-9ab.vault.azure.net/", "must be an Azure Key Vault URL"),
        ("https://kv-contoso.vault.azure.net./", "must be an Azure Key Vault URL"),
        ("https://a.kv-contoso.vault.azure.net/", "must be an Azure Key Vault URL"),
        ("https://kv.vault.azure.net/", "must be an Azure Key Vault URL"),  # 2 characters
        ("https://1kv-contoso.vault.azure.net/", "must be an Azure Key Vault URL"),
        ("https://kv-contoso-.vault.azure.net/", "must be an Azure Key Vault URL"),
        ("https://kv-contoso.managedhsm.azure.net/", "must be an Azure Key Vault URL"),
        ("https://[::1]/", "must be an Azure Key Vault URL"),
        ("https://[::1/", "must be an Azure Key Vault URL"),
        (" https://kv-contoso.vault.azure.net/", "without spaces"),
        ("https://kv-contoso.vault.azure.net/\n", "plain ASCII"),
        ("file:///etc/passwd", "must use https"),
        ("", "must use https"),
    ],
)
def test_anything_but_a_key_vault_url_is_refused_without_echoing_it(url: str, says: str) -> None:
    error = failure(vault_url, url)
    assert error.kind == "invalid_url"
    assert says in error.detail
    assert "evil" not in error.detail
    assert "\n" not in error.detail


def test_the_configured_material_validates_its_url_and_name() -> None:
    material = KeyMaterial("HTTPS://KV-CONTOSO.vault.azure.net", "tenant-key", "secret")
    assert material.vault_url == VAULT_URL
    assert failure(KeyMaterial, "https://evil.com/", "k", "key").kind == "invalid_url"
    for name in ("", "../keys/x", "a/b", "a?b", "x" * 128, "naïve"):
        error = failure(KeyMaterial, VAULT_URL, name, "secret")
        assert error.kind == "invalid_url"
        assert error.detail == "a Key Vault secret name is 1-127 letters, digits and hyphens"


def test_a_key_ref_names_the_exact_version_and_reads_back() -> None:
    ref = secret().ref("0123456789abcdef0123456789abcdef")
    assert ref == f"{VAULT_URL}secrets/tenant-key/0123456789abcdef0123456789abcdef"
    assert KeyMaterial.from_ref(ref) == (secret(), "0123456789abcdef0123456789abcdef")
    key_ref = key().ref("abc123")
    assert key_ref == f"{VAULT_URL}keys/tenant-kek/abc123"
    assert KeyMaterial.from_ref(key_ref) == (key(), "abc123")


@pytest.mark.parametrize(
    "ref",
    [
        "https://evil.com/secrets/tenant-key/abc",
        "http://kv-contoso.vault.azure.net/secrets/tenant-key/abc",
        f"{VAULT_URL}certificates/tenant-key/abc",
        f"{VAULT_URL}secrets/tenant-key",
        f"{VAULT_URL}secrets/tenant-key/",
        f"{VAULT_URL}secrets/tenant-key/abc/extra",
        f"{VAULT_URL}secrets/tenant-key/abc?x=1",
        f"{VAULT_URL}secrets/../abc",
        f"{VAULT_URL}secrets/tenant-key/ab-c",
    ],
)
def test_a_malformed_key_ref_is_refused(ref: str) -> None:
    assert failure(KeyMaterial.from_ref, ref).kind == "invalid_url"


# -- the current version ------------------------------------------------------------------------


def test_a_secret_current_version_follows_rotation(vault: FakeVault) -> None:
    first = vault.add_secret("tenant-key")
    assert current_version(secret(), CREDENTIALS, vault) == first
    second = vault.rotate_secret("tenant-key")
    assert second != first
    assert current_version(secret(), CREDENTIALS, vault) == second


def test_a_key_current_version_follows_rotation_and_is_proved_to_wrap(vault: FakeVault) -> None:
    first = vault.add_key("tenant-kek")
    assert current_version(key(), CREDENTIALS, vault) == first
    # Usable means the service principal may unwrap with it, not only read it.
    assert vault.sent(f"/keys/tenant-kek/{first}/unwrapkey")
    second = vault.rotate_key("tenant-kek")
    assert current_version(key(), CREDENTIALS, vault) == second


def test_a_sovereign_cloud_vault_signs_in_at_its_own_cloud() -> None:
    vault = FakeVault(vault_url="https://kv-gov.vault.usgovcloudapi.net/")
    version = vault.add_secret("tenant-key")
    material = KeyMaterial(vault.vault_url, "tenant-key", "secret")
    assert current_version(material, CREDENTIALS, vault) == version
    token_hosts = {urlsplit(r.url).netloc for r in vault.requests if "/oauth2/" in r.url}
    assert token_hosts == {"login.microsoftonline.us"}


def test_a_missing_secret_or_key_is_not_found(vault: FakeVault) -> None:
    error = failure(current_version, secret("guardia-key"), CREDENTIALS, vault)
    assert (error.kind, error.detail) == (
        "not_found",
        "Secret 'guardia-key' not found in https://kv-contoso.vault.azure.net/",
    )
    error = failure(current_version, key("guardia-kek"), CREDENTIALS, vault)
    assert (error.kind, error.detail) == (
        "not_found",
        "Key 'guardia-kek' not found in https://kv-contoso.vault.azure.net/",
    )


def test_a_refusal_by_the_vault_is_access_denied(vault: FakeVault) -> None:
    vault.add_secret("tenant-key")
    vault.deny()
    error = failure(current_version, secret(), CREDENTIALS, vault)
    assert error.kind == "access_denied"
    assert error.detail.startswith(
        f"service principal {CLIENT_ID} may not get Secret 'tenant-key' in {VAULT_URL} "
        "(HTTP 403 Forbidden/AccessDenied): The user, group or application"
    )
    assert "does not have secrets get permission" in error.detail


def test_a_key_that_may_be_read_but_not_unwrapped_is_access_denied(vault: FakeVault) -> None:
    version = vault.add_key("tenant-kek")
    vault.deny("unwrapKey")
    error = failure(current_version, key(), CREDENTIALS, vault)
    assert error.kind == "access_denied"
    assert error.detail.startswith(
        f"service principal {CLIENT_ID} may not unwrapKey Key 'tenant-kek' version '{version}' "
        f"in {VAULT_URL} (HTTP 403"
    )


def test_an_unreachable_vault_is_unreachable(vault: FakeVault) -> None:
    vault.add_secret("tenant-key")
    vault.unreachable = True
    error = failure(current_version, secret(), CREDENTIALS, vault)
    assert error.kind == "unreachable"
    assert error.detail.startswith(f"cannot reach {VAULT_URL}: Failed to establish")
    assert vault.sleeps  # retried before giving up
    other = KeyMaterial("https://kv-nowhere.vault.azure.net/", "tenant-key", "secret")
    error = failure(current_version, other, CREDENTIALS, vault)
    assert error.kind == "unreachable"
    assert error.detail.startswith("cannot reach https://kv-nowhere.vault.azure.net/:")


def test_a_refused_sign_in_is_sign_in_and_never_holds_the_secret(vault: FakeVault) -> None:
    vault.add_secret("tenant-key")
    wrong = AzureCredentials(TENANT_ID, CLIENT_ID, "wrong-secret-value-0123456789")
    error = failure(current_version, secret(), wrong, vault)
    assert (error.kind, error.detail) == (
        "sign_in",
        f"sign-in failed for service principal {CLIENT_ID} in tenant {TENANT_ID}: "
        "AADSTS7000215: Invalid client secret provided.",
    )
    vault.refuse_sign_in = True
    assert failure(current_version, key(), CREDENTIALS, vault).kind == "sign_in"
    error = failure(
        current_version, secret(), AzureCredentials("", CLIENT_ID, CLIENT_SECRET), vault
    )
    assert error.kind == "sign_in"
    assert error.detail.startswith("cannot sign in:")


@pytest.mark.parametrize(
    "value",
    [
        "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZQ==",  # base64 of 31 bytes: too short
        "correct horse battery staple correct horse battery staple",  # not base64
        "",
    ],
    ids=["short", "not-base64", "empty"],
)
def test_a_secret_that_is_not_key_material_is_unusable(vault: FakeVault, value: str) -> None:
    vault.add_secret("tenant-key", value)
    error = failure(current_version, secret(), CREDENTIALS, vault)
    assert (error.kind, error.detail) == (
        "unusable",
        f"Secret 'tenant-key' in {VAULT_URL} is not usable as a key: its value must be base64 "
        "of at least 32 random bytes (openssl rand -base64 32)",
    )


def test_a_disabled_secret_or_key_is_unusable(vault: FakeVault) -> None:
    vault.add_secret("tenant-key")
    vault.disable_secret("tenant-key")
    error = failure(current_version, secret(), CREDENTIALS, vault)
    assert (error.kind, error.detail) == (
        "unusable",
        f"Secret 'tenant-key' is disabled in {VAULT_URL}",
    )
    vault.add_key("tenant-kek")
    vault.disable_key("tenant-kek")
    error = failure(current_version, key(), CREDENTIALS, vault)
    assert (error.kind, error.detail) == (
        "unusable",
        f"Key 'tenant-kek' is disabled in {VAULT_URL}",
    )


def test_a_key_that_cannot_wrap_is_unusable(vault: FakeVault) -> None:
    vault.add_key("signer", key_ops=["sign", "verify"])
    error = failure(current_version, key("signer"), CREDENTIALS, vault)
    assert (error.kind, error.detail) == (
        "unusable",
        f"Key 'signer' in {VAULT_URL} does not permit wrapKey and unwrapKey",
    )
    vault.add_key("curve", kty="EC", key_ops=["sign", "verify"])
    error = failure(current_version, key("curve"), CREDENTIALS, vault)
    assert error.kind == "unusable"
    assert error.detail.startswith(f"Key 'curve' in {VAULT_URL} is of type EC;")


# -- wrapping data keys -------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["secret", "key"])
def test_each_version_unwraps_what_it_wrapped_after_a_rotation(vault: FakeVault, kind: str) -> None:
    material = secret() if kind == "secret" else key()
    rotate = vault.rotate_secret if kind == "secret" else vault.rotate_key
    first = vault.add_secret(material.name) if kind == "secret" else vault.add_key(material.name)
    old = cmk_wrapper(material.ref(first), CREDENTIALS, vault)
    assert (old.mode, old.key_ref) == ("cmk", material.ref(first))
    wrapped_old = old.wrap(DATA_KEY, BOUND)
    assert DATA_KEY not in wrapped_old

    second = rotate(material.name)
    new = cmk_wrapper(material.ref(second), CREDENTIALS, vault)
    wrapped_new = new.wrap(DATA_KEY, BOUND)
    assert new.unwrap(wrapped_new, BOUND) == DATA_KEY
    # The older version still opens what it sealed, through a fresh wrapper (a later request).
    assert cmk_wrapper(material.ref(first), CREDENTIALS, vault).unwrap(wrapped_old, BOUND) == (
        DATA_KEY
    )
    # ...and neither version opens the other's.
    with pytest.raises(DecryptionError):
        new.unwrap(wrapped_old, BOUND)
    with pytest.raises(DecryptionError):
        cmk_wrapper(material.ref(first), CREDENTIALS, vault).unwrap(wrapped_new, BOUND)


@pytest.mark.parametrize("kind", ["secret", "key"])
def test_a_document_sealed_under_cmk_opens_and_a_tampered_one_never_does(
    vault: FakeVault, kind: str
) -> None:
    material = secret() if kind == "secret" else key()
    version = vault.add_secret(material.name) if kind == "secret" else vault.add_key(material.name)
    wrapper = cmk_wrapper(material.ref(version), CREDENTIALS, vault)
    document = {"findings": [{"check": "kv-purge-protection", "status": "fail"}]}
    wrapped, body = seal_document(wrapper, document, BOUND)
    assert open_document(wrapper, wrapped, body, BOUND) == document
    tampered = wrapped[:-1] + bytes([wrapped[-1] ^ 1])
    with pytest.raises(DocumentUnreadable):
        open_document(wrapper, tampered, body, BOUND)
    with pytest.raises(DocumentUnreadable):  # another tenant's or document's row
        open_document(wrapper, wrapped, body, context("report", "tenant-b", "report-1"))


def test_a_secret_wrapper_reads_the_secret_once(vault: FakeVault) -> None:
    version = vault.add_secret("tenant-key")
    wrapper = cmk_wrapper(secret().ref(version), CREDENTIALS, vault)
    for _ in range(3):
        wrapper.unwrap(wrapper.wrap(DATA_KEY, BOUND), BOUND)
    reads = vault.sent(f"/secrets/tenant-key/{version}")
    assert len([r for r in reads if "Authorization" in r.headers]) == 1


@pytest.mark.parametrize("kind", ["secret", "key"])
def test_a_vault_that_stops_answering_fails_reads_clearly_until_it_returns(
    vault: FakeVault, kind: str
) -> None:
    material = secret() if kind == "secret" else key()
    version = vault.add_secret(material.name) if kind == "secret" else vault.add_key(material.name)
    ref = material.ref(version)
    wrapped = cmk_wrapper(ref, CREDENTIALS, vault).wrap(DATA_KEY, BOUND)

    vault.deny()
    error = failure(cmk_wrapper(ref, CREDENTIALS, vault).unwrap, wrapped, BOUND)
    assert error.kind == "access_denied"
    assert f"{material.label} version '{version}'" in error.detail
    vault.restore()
    vault.unreachable = True
    error = failure(cmk_wrapper(ref, CREDENTIALS, vault).unwrap, wrapped, BOUND)
    assert error.kind == "unreachable"
    vault.restore()
    assert cmk_wrapper(ref, CREDENTIALS, vault).unwrap(wrapped, BOUND) == DATA_KEY

    if kind == "secret":
        vault.disable_secret(material.name)
    else:
        vault.disable_key(material.name)
    assert failure(cmk_wrapper(ref, CREDENTIALS, vault).unwrap, wrapped, BOUND).kind == "unusable"
    if kind == "secret":
        vault.delete_secret(material.name)
    else:
        vault.delete_key(material.name)
    error = failure(cmk_wrapper(ref, CREDENTIALS, vault).unwrap, wrapped, BOUND)
    assert (error.kind, error.detail) == (
        "not_found",
        f"{material.label} version '{version}' not found in {VAULT_URL}",
    )


def test_a_wrapper_refuses_a_malformed_ref() -> None:
    assert failure(cmk_wrapper, "https://evil.com/keys/k/v", CREDENTIALS, None).kind == (
        "invalid_url"
    )


# -- nothing secret leaks -----------------------------------------------------------------------


def test_no_secret_value_or_token_in_any_error_or_log_record(
    vault: FakeVault, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    version = vault.add_secret("tenant-key")
    key_version = vault.add_key("tenant-kek")
    short = vault.add_secret("short", new_secret_value(16))
    errors: list[VaultError] = []

    def attempt(call: object, *args: object) -> None:
        assert callable(call)
        try:
            call(*args)
        except VaultError as exc:
            errors.append(exc)

    wrapper = cmk_wrapper(secret().ref(version), CREDENTIALS, vault)
    wrapped = wrapper.unwrap(wrapper.wrap(DATA_KEY, BOUND), BOUND)
    key_wrapper = cmk_wrapper(key().ref(key_version), CREDENTIALS, vault)
    key_wrapped = key_wrapper.wrap(DATA_KEY, BOUND)
    attempt(current_version, secret(), CREDENTIALS, vault)
    attempt(current_version, secret("short"), CREDENTIALS, vault)
    for knob in ("deny", "unreachable", "refuse_sign_in"):
        if knob == "deny":
            vault.deny()
        else:
            setattr(vault, knob, True)
        attempt(current_version, secret(), CREDENTIALS, vault)
        attempt(current_version, key(), CREDENTIALS, vault)
        attempt(cmk_wrapper(key().ref(key_version), CREDENTIALS, vault).unwrap, key_wrapped, BOUND)
        vault.restore()
    attempt(current_version, secret(), AzureCredentials(TENANT_ID, CLIENT_ID, "x"), vault)

    assert len(errors) == 11
    assert wrapped == DATA_KEY
    forbidden = [
        CLIENT_SECRET,
        vault.secret_value("tenant-key", version),
        vault.secret_value("short", short),
        *vault.tokens,
    ]
    texts = [f"{e} {e.detail!r} {e!r}" for e in errors]
    texts += [record.getMessage() for record in caplog.records]
    texts += [str(record.args) for record in caplog.records]
    assert caplog.records  # the Azure SDK did log, at DEBUG
    for text in texts:
        for value in forbidden:
            assert value not in text
        assert DATA_KEY.hex() not in text
