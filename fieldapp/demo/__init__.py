"""The demo town 保安镇 (大冶市): a seeded roster generator, users, campaign and simulated visits.

``places`` holds the town and the figures it reproduces, ``generator`` the
households, ``build`` puts them into the database through the real roster
import, ``visits`` simulates a share of the campaign through the real sync
ingest.
"""
