"""The textbook's speed keeping: a PI controller from measured speed to throttle.

As Udacity's `drive.py` (`SimplePIController(0.1, 0.002)`): throttle = Kp*e + Ki*sum(e) with
e = set speed - measured speed, once per telemetry frame. Two changes: the throttle is
clipped to the simulator's [-1, 1] (negative brakes), and the sum stops growing while the
throttle is clipped and the error pushes further out (anti-windup), so a car that took
seconds to reach the set speed does not overshoot it by the error it piled up meanwhile.
"""

from __future__ import annotations

from dataclasses import dataclass

KP = 0.1
KI = 0.002


@dataclass
class SpeedController:
    set_speed: float  # mph, the simulator's unit
    kp: float = KP
    ki: float = KI
    integral: float = 0.0

    def update(self, speed: float) -> float:
        """Throttle in [-1, 1] for the measured `speed`."""
        error = self.set_speed - speed
        integral = self.integral + error
        wanted = self.kp * error + self.ki * integral
        throttle = min(max(wanted, -1.0), 1.0)
        winding_up = throttle != wanted and (error > 0) == (wanted > 0)
        if not winding_up:  # clipped, with the error pushing further out: the sum waits
            self.integral = integral
        return throttle
