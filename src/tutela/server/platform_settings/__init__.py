"""Platform settings operators change at run time, stored in the database (GET/PATCH
/admin/settings), as opposed to the start-up settings read from ``TUTELA_*`` variables."""
