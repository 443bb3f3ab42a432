"""The geometry of the usage page's bar chart: credits per day, drawn as inline SVG.

This module only computes positions and texts; templates/studio/usage.html draws them,
with colours from CSS classes (the CSP allows no style attributes), so the chart
follows the light and dark themes.
"""

from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal

from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from playground.amounts import plain

WIDTH, HEIGHT = 720, 240
LEFT, RIGHT, TOP, BOTTOM = 48, 8, 12, 28  # room for the y tick labels and the day numbers
TICKS = 4  # about this many steps up the y axis
STEPS = (Decimal(1), Decimal(2), Decimal("2.5"), Decimal(5), Decimal(10))


@dataclass
class Bar:
    x: float
    width: float
    charged_y: float
    charged_height: float
    reserved_y: float
    reserved_height: float
    title: str


@dataclass
class Tick:
    y: float
    label: str


@dataclass
class DayLabel:
    x: float
    label: str


@dataclass
class Chart:
    bars: list
    ticks: list
    days: list
    description: str
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right: int = WIDTH - RIGHT
    top: int = TOP
    bottom: int = HEIGHT - BOTTOM

    @property
    def plot_height(self):
        return self.bottom - self.top

    @property
    def day_label_y(self):
        return self.bottom + 18

    @property
    def tick_label_x(self):
        return self.left - 6


def short_day(day):
    # Translators: a Django date format for a chart's tooltip, as in "Nov 3".
    return formats.date_format(day, pgettext("chart day", "M j"))


def bar_title(day, figures):
    """A bar's tooltip ("Nov 3: 4.5 credits, 3 images"), with the part still reserved when there is one."""
    values = {"day": short_day(day), "credits": plain(figures.credits), "images": figures.images}
    if figures.reserved:
        values["reserved"] = plain(figures.reserved)
        return (
            ngettext(
                "%(day)s: %(credits)s credits (%(reserved)s reserved), %(images)s image",
                "%(day)s: %(credits)s credits (%(reserved)s reserved), %(images)s images",
                figures.images,
            )
            % values
        )
    return (
        ngettext(
            "%(day)s: %(credits)s credits, %(images)s image",
            "%(day)s: %(credits)s credits, %(images)s images",
            figures.images,
        )
        % values
    )


def tick_step(largest):
    """A round step (1, 2, 2.5 or 5 times a power of ten) giving about TICKS steps to `largest`."""
    rough = Decimal(largest) / TICKS
    magnitude = Decimal(1).scaleb(rough.adjusted())
    return next(step * magnitude for step in STEPS if step * magnitude >= rough)


def ticks_for(largest):
    """The y axis values, from 0 to a round value at or above `largest`."""
    if largest <= 0:
        return [Decimal(0), Decimal(1)]
    step = tick_step(largest)
    count = int((largest / step).to_integral_value(rounding=ROUND_CEILING))
    return [step * i for i in range(count + 1)]


def credits_chart(days, month_label):
    """The chart of `days` [(day, figures)]: one bar per day with a generation."""
    chart = Chart(bars=[], ticks=[], days=[], description="")
    values = ticks_for(max((figures.credits for _day, figures in days), default=Decimal(0)))
    top_value = values[-1]
    slot = (chart.right - chart.left) / len(days)

    def y_of(value):
        return round(chart.bottom - float(value / top_value) * chart.plot_height, 2)

    chart.ticks = [Tick(y_of(value), plain(value)) for value in values]
    for index, (day, figures) in enumerate(days):
        centre = chart.left + slot * (index + 0.5)
        if day.day == 1 or day.day % 5 == 0:
            chart.days.append(DayLabel(round(centre, 2), str(day.day)))
        if not figures.generations:
            continue
        charged_top, credits_top = y_of(figures.charged), y_of(figures.credits)
        chart.bars.append(
            Bar(
                x=round(centre - slot * 0.35, 2),
                width=round(slot * 0.7, 2),
                charged_y=charged_top,
                charged_height=round(chart.bottom - charged_top, 2),
                reserved_y=credits_top,
                reserved_height=round(charged_top - credits_top, 2),
                title=bar_title(day, figures),
            )
        )
    chart.description = describe(days, month_label)
    return chart


def describe(days, month_label):
    """The chart's <desc>: what it shows, in one or two sentences."""
    active = [(day, figures) for day, figures in days if figures.generations]
    total = sum((figures.credits for _day, figures in active), Decimal(0))
    text = ngettext(
        "Credits used per day in %(month)s: %(total)s credits in all, on %(count)s day.",
        "Credits used per day in %(month)s: %(total)s credits in all, over %(count)s days.",
        len(active),
    ) % {"month": month_label, "total": plain(total), "count": len(active)}
    if active:
        busiest_day, busiest = max(active, key=lambda item: item[1].credits)
        text += " " + _("The busiest day was %(day)s, with %(credits)s credits.") % {
            "day": short_day(busiest_day),
            "credits": plain(busiest.credits),
        }
    return text
