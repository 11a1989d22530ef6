"""The web portal: pages and assets."""
