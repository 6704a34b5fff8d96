#!/bin/sh
echo "sleeping past the test timeout"
sleep 60
