"""What the operator sees: JSON logs with request ids, health checks and Prometheus metrics."""
