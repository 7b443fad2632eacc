"""SMS: gateways, message texts, the outbox and its scheduler."""
