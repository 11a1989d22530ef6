"""Enterprise insights on a saved report: discovery, scorecard, roadmap, auditor package."""
