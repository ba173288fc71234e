"""Broadcasts: a campaign file, a recipients file, and a durable, resumable run (see
``docs/production.md``)."""

from botkit.broadcast.campaign import Campaign, CampaignError, load_campaign
from botkit.broadcast.recipients import RecipientsFile, read_recipients
from botkit.broadcast.runner import BroadcastRunner, Progress

__all__ = [
    "BroadcastRunner",
    "Campaign",
    "CampaignError",
    "Progress",
    "RecipientsFile",
    "load_campaign",
    "read_recipients",
]
