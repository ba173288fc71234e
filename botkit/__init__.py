"""botkit: one bot, six channels (SMS, MMS, RCS, WhatsApp, Viber, Messenger), Vonage Messages API.

Example:
    from botkit import Bot, Context

    bot = Bot()

    @bot.on_text()
    async def echo(ctx: Context) -> None:
        await ctx.reply(ctx.message.text or "")

    app = bot.asgi()
"""

from __future__ import annotations

from botkit.accounts import AccountsClient, ExternalAccount
from botkit.bot import Bot, Middleware
from botkit.clock import Clock, FakeClock, SystemClock
from botkit.context import Context, ErrorContext
from botkit.downloaded_media import MediaContent, MediaDownload, MediaStream
from botkit.errors import (
    AccountsApiError,
    AlreadyDone,
    BotkitError,
    ConfigError,
    FlowError,
    LeaseLost,
    MediaError,
    MediaExpired,
    MediaTooLarge,
    MessagesApiError,
    NotMedia,
    OptedOut,
    OutboundSuppressed,
    PayloadError,
    SignatureError,
    StoreError,
    TemplateError,
    UnsupportedChannel,
    VersionConflict,
    WebhookError,
    WindowClosed,
)
from botkit.events import (
    ButtonAnswer,
    ContactInfo,
    ErrorInfo,
    Event,
    FlowReply,
    InboundEvent,
    LocationInfo,
    MediaInfo,
    OrderInfo,
    Pricing,
    ReactionInfo,
    StatusEvent,
    Usage,
    WhatsAppConversation,
    Workflow,
)
from botkit.failover import FailoverError
from botkit.options import MessageOptions, OptionsError
from botkit.replies import (
    Audio,
    Button,
    Buttons,
    Card,
    Carousel,
    Contact,
    File,
    Image,
    Location,
    MediaGroup,
    Reaction,
    Reply,
    Sticker,
    Template,
    TemplateButton,
    TemplateParameter,
    Text,
    Video,
)
from botkit.routing import Handler, Router
from botkit.settings import Settings
from botkit.store import Conversation, ConversationKey, Store, open_store
from botkit.template_registry import RegisteredTemplate, TemplateRegistry, load_templates

__version__ = "0.1.0"

__all__ = [
    "AccountsApiError",
    "AccountsClient",
    "AlreadyDone",
    "Audio",
    "Bot",
    "BotkitError",
    "Button",
    "ButtonAnswer",
    "Buttons",
    "Card",
    "Carousel",
    "Clock",
    "ConfigError",
    "Contact",
    "ContactInfo",
    "Context",
    "Conversation",
    "ConversationKey",
    "ErrorContext",
    "ErrorInfo",
    "Event",
    "ExternalAccount",
    "FailoverError",
    "FakeClock",
    "File",
    "FlowError",
    "FlowReply",
    "Handler",
    "Image",
    "InboundEvent",
    "LeaseLost",
    "Location",
    "LocationInfo",
    "MediaContent",
    "MediaDownload",
    "MediaError",
    "MediaExpired",
    "MediaGroup",
    "MediaInfo",
    "MediaStream",
    "MediaTooLarge",
    "MessageOptions",
    "MessagesApiError",
    "Middleware",
    "NotMedia",
    "OptedOut",
    "OptionsError",
    "OrderInfo",
    "OutboundSuppressed",
    "PayloadError",
    "Pricing",
    "Reaction",
    "ReactionInfo",
    "RegisteredTemplate",
    "Reply",
    "Router",
    "Settings",
    "SignatureError",
    "StatusEvent",
    "Sticker",
    "Store",
    "StoreError",
    "SystemClock",
    "Template",
    "TemplateButton",
    "TemplateError",
    "TemplateParameter",
    "TemplateRegistry",
    "Text",
    "UnsupportedChannel",
    "Usage",
    "VersionConflict",
    "Video",
    "WebhookError",
    "WhatsAppConversation",
    "WindowClosed",
    "Workflow",
    "__version__",
    "load_templates",
    "open_store",
]
