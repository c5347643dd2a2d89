"""`pipeline drive` keeps the speed as the book's PI controller does, without its windup."""

import pytest

from pipeline.tasks.driving.drive.control import SpeedController


def _drive(controller: SpeedController, frames: int, speed: float = 0.0) -> list[float]:
    """Speeds of a crude car (speed follows throttle with drag) under `controller`."""
    speeds = []
    for _ in range(frames):
        throttle = controller.update(speed)
        speed = max(0.0, speed + 1.5 * throttle - 0.02 * speed)
        speeds.append(speed)
    return speeds


def test_the_book_gains_and_formula_below_saturation():
    controller = SpeedController(set_speed=20.0)
    assert (controller.kp, controller.ki) == (0.1, 0.002)  # Udacity drive.py's
    assert controller.update(15.0) == pytest.approx(0.1 * 5 + 0.002 * 5)
    assert controller.update(18.0) == pytest.approx(0.1 * 2 + 0.002 * (5 + 2))


def test_the_throttle_stays_within_the_simulators_range():
    controller = SpeedController(set_speed=30.0)
    assert controller.update(0.0) == 1.0  # full throttle from standstill, not 3.06
    assert SpeedController(set_speed=0.0).update(30.0) == -1.0  # full brake


def test_a_car_reaches_the_set_speed_without_overshooting_it():
    speeds = _drive(SpeedController(set_speed=20.0), 600)
    assert speeds[-1] == pytest.approx(20.0, abs=0.2)
    assert max(speeds) < 20.1  # the sum did not pile up while the throttle was clipped (the
    # book's controller, unclipped sum, overshoots this car to 20.5 mph)


def test_the_sum_does_not_grow_while_the_throttle_is_clipped():
    controller = SpeedController(set_speed=20.0)
    for _ in range(100):
        controller.update(0.0)  # a car stuck against a wall
    assert controller.integral == 0.0
    controller.update(25.0)  # over speed: the error brings the throttle back, it counts
    assert controller.integral == -5.0
