"""Jobs, schedules and the runner behind the retention command."""
