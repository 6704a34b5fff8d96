#!/bin/sh
echo "the widget is broken" >&2
exit 1
