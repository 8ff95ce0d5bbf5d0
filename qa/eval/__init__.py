"""Offline evaluation: SQuAD loading and official scoring, reader and end-to-end runs,
calibration fitting and reports. The runtime (chatbot, page, CLI ask/chat/serve) never imports this."""
