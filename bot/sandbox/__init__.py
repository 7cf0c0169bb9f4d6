"""The local sandbox carrier: an independent implementation of Sorted PRO's wire."""
