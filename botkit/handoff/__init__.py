"""Human handoff: the bot steps aside, a person answers through botkit, the bot resumes.

One concept per module:

* :mod:`.state`: a handoff as the conversation keeps it (``meta["handoff"]``);
* :mod:`.turns`: what a turn of a handed-off conversation does (silence, relay, agents'
  messages, hand-back, the deadline);
* :mod:`.desk`: what the agent side can do (list, read, write, release), shared by the
  HTTP API, the sandbox, the Chatwoot connector and ``bot.hand_back``;
* :mod:`.transcript`: a user's messages in and out, from the store's history;
* :mod:`.events` and :mod:`.relay`: what the agent side is told, and how;
* :mod:`.webhooks`: the signed agent webhook;
* :mod:`.agent_api`: the agent HTTP API (``/agent/...``);
* :mod:`.chatwoot`: the Chatwoot connector.

``docs/handoff.md`` is the guide.
"""
