"""One router per resource; each route reads its input, calls one service, and shapes the answer."""
