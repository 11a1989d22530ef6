"""Single sign-on with OpenID Connect: a tenant's identity provider (Microsoft Entra ID, or any
OpenID provider) signs its people in to the portal; the tenant may require it."""
