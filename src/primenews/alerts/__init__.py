"""Alerts: saved searches and entity watchlists, delivered by e-mail digest and signed webhook."""

from primenews.alerts.model import Alert, AlertRule, Channel, Frequency

__all__ = ["Alert", "AlertRule", "Channel", "Frequency"]
