"""Conversations: Log chat (typed or pasted, with its preview), the thread, the Import page and `import-chat`;
saving parsed chats (importing.py) once, whoever logs them."""
