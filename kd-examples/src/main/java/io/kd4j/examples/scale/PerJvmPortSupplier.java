package io.kd4j.examples.scale;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.SocketException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.nd4j.parameterserver.distributed.v2.transport.PortSupplier;

/**
 * The UDP port of DL4J's gradient-sharing transport, one per JVM: the first JVM to ask (the driver, which
 * asks first for the controller's port) gets {@code preferredPort}; a JVM where that port is already
 * bound (a second executor on the same host) gets a free port from the operating system. DL4J's
 * {@code StaticPortSupplier} gives every JVM the same port, so two executors on one host cannot both bind it.
 * The choice is remembered for the life of the JVM, so the driver, and an executor in the driver's JVM
 * (local mode), keep one port.
 */
final class PerJvmPortSupplier implements PortSupplier {
    private static final long serialVersionUID = 1L;
    private static final Map<Integer, Integer> CHOSEN = new ConcurrentHashMap<>();

    private final int preferredPort;

    PerJvmPortSupplier(int preferredPort) {
        if (preferredPort < 1024 || preferredPort > 65535) {
            throw new IllegalArgumentException("port must be in 1024..65535, got " + preferredPort);
        }
        this.preferredPort = preferredPort;
    }

    @Override
    public int getPort() {
        return CHOSEN.computeIfAbsent(preferredPort, PerJvmPortSupplier::choose);
    }

    private static int choose(int preferred) {
        try (DatagramSocket s = new DatagramSocket(preferred, InetAddress.getByName("0.0.0.0"))) {
            return preferred;
        } catch (SocketException busy) {
            try (DatagramSocket s = new DatagramSocket(0)) {
                return s.getLocalPort();
            } catch (SocketException e) {
                throw new UncheckedIOException("no free UDP port for the gradient-sharing transport", e);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
