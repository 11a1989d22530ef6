"""The tenant's people: who may sign in to the portal, with which role, and their invitations."""
