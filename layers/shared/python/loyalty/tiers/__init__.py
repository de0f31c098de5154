"""Tiers (会员等级): the ladder, members' standing on it, upgrades at once, reviews on schedule, benefits."""
