"""Local fake vendor servers (WhatsApp Cloud API, Telegram Bot API, SMS.ru, Zadarma, Mango Office).

Each answers on 127.0.0.1 as its vendor documents, records what it got and can be told to fail;
see README.md in this folder.
"""
