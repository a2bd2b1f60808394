"""The owner's pages: staff accounts, backups (list, back up now, download), exports (customers CSV,
conversations JSONL), the trash (restore, empty) and the audit trail; and the services behind them."""
