from .._render import *  # noqa
from .._render import duration, table  # noqa
