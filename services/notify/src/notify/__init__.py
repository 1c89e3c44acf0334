"""notify: alerts the partner organisation the directory chose, with a signed webhook."""
