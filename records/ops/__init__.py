"""For the operators: health checks, the queue dashboard, the embedded Redis."""
