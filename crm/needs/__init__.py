"""Needs: the tag rules and how customers' words match them (pure), tagging conversations, and the Tags pages
(the owner edits tags and rules and re-tags everything; staff add and remove tags on a conversation)."""
