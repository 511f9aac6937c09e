"""``fieldapp village locate|list``: the villages' 村委会 positions."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from fieldapp.extensions import db
from fieldapp.villages import VillageError, locate_village, village_positions


def _degrees(value: float | None) -> str:
    return "—" if value is None else f"{value:.6f}"


def register(app: Flask) -> None:
    group = AppGroup("village", help="Villages and their 村委会 positions (村/社区).")

    @group.command("locate")
    @click.argument("village")
    @click.option("--lat", type=float, default=None, help="Latitude (纬度), WGS-84 degrees, e.g. 30.2621.")
    @click.option("--lon", type=float, default=None, help="Longitude (经度), WGS-84 degrees, e.g. 114.8352.")
    @click.option("--clear", is_flag=True, help="Remove the village's position.")
    def locate(village: str, lat: float | None, lon: float | None, clear: bool) -> None:
        """Set the position of a village's 村委会 (设置村委会位置): the review page flags a
        household's first positioned visit recorded far from it. VILLAGE is its name,
        TOWN/VILLAGE where two towns share the name, or its 12-digit code."""
        if clear and (lat is not None or lon is not None):
            raise click.UsageError("--clear 不能与 --lat/--lon 同时使用")
        try:
            if not clear and (lat is None or lon is None):
                raise VillageError("position_incomplete")  # neither would clear it: that is --clear
            located = locate_village(village, lat, lon, via="cli")
        except VillageError as exc:
            raise click.ClickException(str(exc)) from exc
        if located.position is None:
            click.echo(f"已清除 {located.village} 的村委会位置")
            return
        lat_set, lon_set = located.position
        click.echo(f"已设置 {located.village} 的村委会位置：纬度 {lat_set}，经度 {lon_set}")
        if located.outside_china:
            click.echo("注意：该位置不在中国境内，请确认纬度和经度没有写反或输错", err=True)

    @group.command("list")
    def list_villages() -> None:
        """Every village with its town, code and 村委会 position (— where none is set)."""
        rows = village_positions(db.session())
        click.echo("乡镇\t村/社区\t代码\t纬度\t经度")
        for row in rows:
            click.echo("\t".join([row.town, row.name, row.code or "—", _degrees(row.lat), _degrees(row.lon)]))

    app.cli.add_command(group)
