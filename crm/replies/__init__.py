"""Replies: quick replies with variables and prompts (filling.py, pure), click-to-chat links for every channel
(links.py, pure), and replies sent through those links, which log themselves (services.py); the Quick replies
pages and the shop details they fill in."""
