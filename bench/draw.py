"""Drawing a seeded AI estate: workloads of AI resources, each in its own resource group.

A workload is what one team runs: an Azure OpenAI (or AI Services) account with its model
deployments and sometimes a content-filter policy, a Key Vault with a customer-managed key, a
storage account, and often an Azure ML workspace with computes, an AI Search service, a container
registry, an AKS cluster; with private endpoints, diagnostic settings and role assignments on some
of them. Each workload has a posture (hardened, mixed or weak): the chance each setting is the
secure one. Everything comes from one ``random.Random(seed)``: the same seed, the same estate.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from typing import Any

from estate_model import Estate, Kind, Node
from kinds_access import ACCESS_KINDS
from kinds_ai import AI_KINDS
from kinds_platform import PLATFORM_KINDS

KINDS: dict[str, Kind] = {k.key: k for k in (*PLATFORM_KINDS, *AI_KINDS, *ACCESS_KINDS)}
TEAMS = ("claims", "fraud", "kyc", "copilot", "docai", "risk", "search", "hr", "legal", "ops")
REGIONS = ("swedencentral", "swedencentral", "westeurope", "francecentral", "eastus2")
POSTURES = ((0.92, 0.3), (0.6, 0.5), (0.25, 0.2))  # (chance a setting is secure, share)
MODELS = (
    ("gpt-4o", "2024-11-20"),
    ("gpt-4o-mini", "2024-07-18"),
    ("gpt-4.1", "2025-04-14"),
    ("o3-mini", "2025-01-31"),
    ("text-embedding-3-large", "1"),
)
DEPLOYMENT_SKUS = ("Standard", "DataZoneStandard", "GlobalStandard", "ProvisionedManaged")
UPGRADES = ("OnceCurrentVersionExpired", "NoAutoUpgrade", "OnceNewDefaultVersionAvailable")
ROLES = (
    "Cognitive Services OpenAI User",
    "Cognitive Services User",
    "Reader",
    "Key Vault Secrets User",
    "Storage Blob Data Reader",
    "Contributor",
    "Owner",
)
LINK_GROUPS = {"account": "account", "vault": "vault", "workspace": "amlworkspace"}
LINK_GROUPS["search"] = "searchService"


class Workload:
    """Draws one team's resources into the estate."""

    def __init__(self, estate: Estate, rng: random.Random, index: int) -> None:
        self.estate, self.rng, self.index = estate, rng, index
        self.team = TEAMS[index % len(TEAMS)]
        self.secure_chance = _pick_weighted(rng, POSTURES)
        self.location = rng.choice(REGIONS)
        self.created = rng.random() < 0.08  # a workload new in this plan: all its nodes created
        self.nodes: list[Node] = []
        self.group = self.add("group", f"rg-{self.team}-{index:05d}", None)

    def good(self) -> bool:
        return self.rng.random() < self.secure_chance

    def guid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def add(self, key: str, name: str, parent: Node | None, **settings: Any) -> Node:
        label = f"{key}_{self.index:05d}_{len(self.nodes)}"
        node = Node(KINDS[key], name, label, self.estate, self.group_or_none(), parent, settings)
        settings.setdefault("location", self.location)
        node.action = self._action(node)
        self.nodes.append(node)
        return node

    def group_or_none(self) -> Node | None:
        return self.nodes[0] if self.nodes else None

    def _action(self, node: Node) -> str:
        depends_on = (node.parent, node.settings.get("target"), node.group)
        if self.created or any(d is not None and d.action == "create" for d in depends_on):
            return "create"
        roll = self.rng.random()
        if roll < 0.04:
            return "create"
        return "update" if roll < 0.18 and node.kind.key in _TAGGED else "no-op"

    def tags(self, inventory: bool) -> dict[str, str]:
        tags = {"env": self.rng.choice(("prod", "prod", "test", "dev")), "team": self.team}
        if self.good():
            tags["cost-center"] = f"CC-{4000 + self.index % 900}"
        if inventory and self.good():
            tags["model-owner"] = f"{self.team}-ml@contoso.com"
        if inventory and self.good():
            tags["model-risk-tier"] = self.rng.choice(("tier-1", "tier-2", "tier-3", "critical"))
        if inventory and self.good():
            year = self.rng.choice((2024, 2025, 2025, 2026))
            tags["model-validation-date"] = f"{year}-{self.rng.randint(1, 12):02d}-15"
        if inventory and self.good():
            tags["model-id"] = f"MRM-{self.index:05d}"
        return tags

    def draw(self) -> list[Node]:
        vault = self.vault()
        storage = self.storage(vault)
        account = self.account(vault) if self.rng.random() < 0.9 else None
        workspace = self.workspace(storage, vault) if self.rng.random() < 0.55 else None
        search = self.search() if self.rng.random() < 0.5 else None
        registry = self.registry() if self.rng.random() < 0.45 else None
        aks = self.aks() if self.rng.random() < 0.15 else None
        targets = [n for n in (account, vault, workspace, search) if n is not None]
        for target in targets:
            if self.rng.random() < self.secure_chance * 0.8:
                self.endpoint(target)
        logged = [*targets, registry, aks, self.blob]
        for target in (n for n in logged if n is not None):
            if self.rng.random() < self.secure_chance:
                self.diagnostic(target)
        scopes = [n for n in (account, search, workspace, vault, storage) if n is not None]
        for _ in range(self.rng.randint(1, 4)):
            self.assignment(self.rng.choice(scopes))
        if self.rng.random() < 0.03:
            self.role()
        return self.nodes

    def vault(self) -> Node:
        vault = self.add(
            "vault",
            f"kv-{self.team}-{self.index:05d}",
            None,
            purge=self.good(),
            rbac=self.good(),
            public=not self.good(),
            acl_deny=self.good(),
            tags=self.tags(False),
        )
        for _ in range(self.rng.choice((0, 1, 1, 2))):
            expires = self.rng.randint(1767225600, 1830297600) if self.good() else None
            self.add(
                "key",
                f"cmk-{len(self.nodes)}",
                vault,
                expires=expires,
                expires_iso=_iso(expires),
                rotation=self.good(),
                key_version=self.guid().replace("-", ""),
            )
        return vault

    def cmk(self, vault: Node) -> dict[str, Any]:
        return {"vault": vault.name, "key_version": self.guid().replace("-", "")}

    def storage(self, vault: Node) -> Node:
        storage = self.add(
            "storage",
            f"st{self.team}{self.index:05d}",
            None,
            public_blob=not self.good(),
            shared_key=not self.good(),
            tls="TLS1_2" if self.good() else "TLS1_0",
            https=self.good() or self.good(),
            public=not self.good(),
            acl_deny=self.good(),
            cmk=self.good(),
            infra_encryption=self.good(),
            cross_tenant=not self.good(),
            tags=self.tags(False),
            **self.cmk(vault),
        )
        self.blob = self.add("blob", "default", storage, soft_delete=self.good(), versioning=False)
        return storage

    def account(self, vault: Node) -> Node:
        identity = self.good()
        account = self.add(
            "account",
            f"oai-{self.team}-{self.index:05d}",
            None,
            kind="OpenAI" if self.rng.random() < 0.7 else "AIServices",
            local_auth=not self.good(),
            public=not self.good(),
            acl_deny=self.good(),
            ip_rules=[] if self.good() else ["0.0.0.0/0"],
            outbound_restricted=self.good(),
            subdomain=self.good() or self.good(),
            identity=identity,
            cmk=identity and self.good(),
            principal=self.guid(),
            tags=self.tags(True),
            **self.cmk(vault),
        )
        policy = None
        if self.rng.random() < 0.4:
            weak = None if self.good() else self.rng.choice(("Hate", "Violence"))
            mode = "Blocking" if self.good() else "Asynchronous_filter"
            policy = self.add("rai", f"{self.team}-strict", account, weak_filter=weak, mode=mode)
        for n in range(self.rng.randint(1, 4)):
            model, version = self.rng.choice(MODELS)
            rai = policy.name if policy else self.rng.choice((None, "Microsoft.DefaultV2"))
            self.add(
                "deployment",
                f"{model}-{n}",
                account,
                model=model,
                version=version,
                sku=self.rng.choice(DEPLOYMENT_SKUS),
                capacity=self.rng.choice((10, 50, 100)),
                upgrade=self.rng.choice(UPGRADES),
                rai=rai if self.good() or rai is None else "Microsoft.Nil",
            )
        return account

    def workspace(self, storage: Node, vault: Node) -> Node:
        isolation = "AllowOnlyApprovedOutbound" if self.good() else "AllowInternetOutbound"
        workspace = self.add(
            "workspace",
            f"mlw-{self.team}-{self.index:05d}",
            None,
            storage=storage,
            vault_node=vault,
            public=not self.good(),
            hbi=self.good(),
            isolation=isolation if self.good() else "Disabled",
            cmk=self.good(),
            principal=self.guid(),
            tags=self.tags(True),
            **self.cmk(vault),
        )
        for n in range(self.rng.choice((0, 1, 1, 2, 3))):
            common = {"local_auth": not self.good(), "public_ip": not self.good()}
            common |= {"ssh": not self.good(), "subnet": self.good()}
            if self.rng.random() < 0.5:
                self.add(
                    "instance",
                    f"ci-{self.team}-{n}",
                    workspace,
                    vm_size="Standard_DS3_v2",
                    **common,
                )
            else:
                min_nodes = 0 if self.good() else 1
                self.add("cluster", f"cc-{self.team}-{n}", workspace, vm_size="Standard_NC6s_v3",
                         min_nodes=min_nodes, **common)  # fmt: skip
        return workspace

    def search(self) -> Node:
        return self.add(
            "search",
            f"srch-{self.team}-{self.index:05d}",
            None,
            sku=self.rng.choice(("basic", "standard", "standard", "free")),
            replicas=self.rng.choice((1, 2, 3)),
            public=not self.good(),
            local_auth=not self.good(),
            cmk=self.good(),
            tags=self.tags(False),
        )

    def registry(self) -> Node:
        premium = self.rng.random() < 0.6
        return self.add(
            "registry",
            f"acr{self.team}{self.index:05d}",
            None,
            sku="Premium" if premium else self.rng.choice(("Basic", "Standard")),
            admin=not self.good(),
            public=not (premium and self.good()),
            anonymous_pull=premium and not self.good(),
            quarantine=premium and self.good(),
            trust=premium and self.good(),
            retention=premium and self.good(),
            export=not (premium and self.good()),
            cmk=False,
            acl_deny=self.good(),
            tags=self.tags(False),
        )

    def aks(self) -> Node:
        private = self.good()
        return self.add(
            "aks",
            f"aks-{self.team}-{self.index:05d}",
            None,
            rbac=self.good() or self.good(),
            aad=self.good(),
            local_accounts=not self.good(),
            network_policy=self.rng.choice(("azure", "calico")) if self.good() else None,
            private=private,
            authorized_ips=[] if private or not self.good() else ["203.0.113.0/24"],
            policy_addon=self.good(),
            defender=self.good(),
            auto_upgrade=self.good(),
            node_public_ip=not self.good(),
            host_encryption=self.good(),
            principal=self.guid(),
            tags=self.tags(False),
        )

    def endpoint(self, target: Node) -> Node:
        name = f"pe-{target.name}"
        group = LINK_GROUPS[target.kind.key]
        return self.add("endpoint", name, None, target=target, group_id=group, tags={})

    def diagnostic(self, target: Node) -> Node:
        group = self.rng.choice(("allLogs", "audit")) if self.good() else None
        return self.add("diagnostic", f"diag-{target.name}", target, category_group=group)

    def assignment(self, scope: Node) -> Node:
        role = self.rng.choice(ROLES)
        kind = self.rng.choice(("User", "Group", "ServicePrincipal"))
        return self.add("assignment", self.guid(), scope, role=role, principal=self.guid(),
                        principal_type=kind)  # fmt: skip

    def role(self) -> Node:
        actions = ["Microsoft.CognitiveServices/accounts/read"] if self.good() else ["*"]
        name = f"AI Platform Operator {self.index}"
        return self.add("role", self.guid(), None, role_name=name, actions=actions)


_TAGGED = {"account", "storage", "vault", "workspace", "search", "registry", "aks"}


def draw_estate(size: int, seed: int) -> Estate:
    """An estate of exactly ``size`` resources (resource groups not counted)."""
    rng = random.Random(seed)  # noqa: S311 -- a benchmark's data, not a secret
    estate = Estate(
        subscription=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        tenant=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        location=REGIONS[0],
    )
    counted, index = 0, 0
    while counted < size:
        for node in Workload(estate, rng, index).draw():
            if node.kind.key == "group":
                estate.nodes.append(node)
            elif counted < size:
                estate.nodes.append(node)
                counted += 1
        index += 1
    return estate


def _pick_weighted(rng: random.Random, options: tuple[tuple[float, float], ...]) -> float:
    roll, total = rng.random(), 0.0
    for value, share in options:
        total += share
        if roll < total:
            return value
    return options[-1][0]


def _iso(unix: int | None) -> str | None:
    if unix is None:
        return None
    return dt.datetime.fromtimestamp(unix, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
