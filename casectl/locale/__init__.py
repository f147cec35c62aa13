"""The translations: zh_CN's catalog (.po, and the .mo casectl reads), and the extractor."""
